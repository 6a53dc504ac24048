// Decoding the picked frames with the system ffmpeg and with @ffmpeg/core (WebAssembly): both must
// give exactly ffmpeg's own decode of those display-order frames (with the swscale flags the
// decoders use, decoder.ts SWS_FLAGS), and so each other; against a plain `-pix_fmt rgb24`
// (swscale's x86 SIMD rounding) they differ by at most 2. One WebAssembly instance serves the file.

import { beforeAll, describe, expect, it } from 'vitest';
import { SWS_FLAGS } from '../../src/media/video/decoder.js';
import { loadWasmFfmpeg } from '../../src/media/video/ffmpeg_wasm.js';
import { extractVideoFrames } from '../../src/media/video/index.js';
import { ffmpegFrame, ffmpegFrames, HAVE_FFMPEG, makeClips, NO_FFMPEG_REASON, type ClipName } from './video_clips.js';

const NAMES: ClipName[] = ['h264_baseline', 'h264_main', 'h264_high', 'hevc', 'vp9', 'cut'];

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.skipIf(!HAVE_FFMPEG)(`video decoding (${HAVE_FFMPEG ? 'system and wasm ffmpeg' : `skipped: ${NO_FFMPEG_REASON}`})`, () => {
  let clips: Record<ClipName, string>;
  const timings: string[] = [];
  beforeAll(async () => {
    clips = makeClips();
    const t0 = performance.now();
    await loadWasmFfmpeg();
    timings.push(`wasm ffmpeg load ${(performance.now() - t0).toFixed(0)} ms`);
  });

  for (const decoder of ['system', 'wasm'] as const) {
    it(`${decoder}: 8 frames of each clip equal ffmpeg's own decode of those frames`, async () => {
      for (const name of NAMES) {
        const t0 = performance.now();
        const v = await extractVideoFrames(clips[name], 8, { decoder });
        timings.push(`${decoder} ${name}: ${(performance.now() - t0).toFixed(0)} ms`);
        expect(v.decoder).toBe(decoder);
        const want = name === 'cut' ? [0, 1, 3, 5, 6, 8, 10, 12] : [0, 2, 5, 7, 10, 12, 15, 18];
        expect(v.picks.map((p) => (p.kind === 'frame' ? p.index : -1))).toEqual(want);
        const exact = ffmpegFrames(clips[name], want, ['-sws_flags', SWS_FLAGS]);
        const plain = ffmpegFrames(clips[name], want);
        const size = 64 * 48 * 3;
        for (const [i, k] of want.entries()) {
          const img = v.images[i]!;
          expect([img.width, img.height]).toEqual([64, 48]);
          expect(Buffer.from(img.data).equals(exact.subarray(i * size, (i + 1) * size)), `${name} frame ${k}`).toBe(true);
          expect(maxDiff(img.data, plain.subarray(i * size, (i + 1) * size)), `${name} frame ${k} vs plain -pix_fmt rgb24`).toBeLessThanOrEqual(2);
        }
      }
    });
  }

  it('the edit-list clip starts at frame 6 of its source (the edit start offset is respected)', async () => {
    const v = await extractVideoFrames(clips.cut, 1, { decoder: 'wasm' });
    expect(Buffer.from(v.images[0]!.data).equals(ffmpegFrame(clips.h264_high, 6, ['-sws_flags', SWS_FLAGS]))).toBe(true);
  });

  it('a 5-frame clip gives 3 black frames, then frames 0..4', async () => {
    const v = await extractVideoFrames(clips.short, 8, { decoder: 'system' });
    expect(v.images).toHaveLength(8);
    for (const img of v.images.slice(0, 3)) expect(img.data.every((b) => b === 0)).toBe(true);
    expect(Buffer.from(v.images[7]!.data).equals(ffmpegFrame(clips.short, 4, ['-sws_flags', SWS_FLAGS]))).toBe(true);
  });

  it('reports timings', () => {
    console.log(`video decode timings (64x48, 20 frames, 8 picked):\n  ${timings.join('\n  ')}`);
  });
});
