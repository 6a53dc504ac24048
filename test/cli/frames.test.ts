// `vila frames` and `--video` on the prompt commands, run as processes from the built dist/, on
// clips generated with the system ffmpeg, with the default model (models/vila-shapes,
// num_video_frames 8). `generate --video` must give the same answer with the system ffmpeg, the
// WebAssembly one, and with no ffmpeg on PATH at all (auto falls back to WebAssembly).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { SWS_FLAGS } from '../../src/media/video/decoder.js';
import { ffmpegFrames, HAVE_FFMPEG, makeClips, NO_FFMPEG_REASON, type ClipName } from '../media/video_clips.js';

const root = join(import.meta.dirname, '../..');

function vila(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/vila.js'), ...args], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!HAVE_FFMPEG)(`vila frames / --video (${HAVE_FFMPEG ? 'clips made with ffmpeg' : `skipped: ${NO_FFMPEG_REASON}`})`, () => {
  let clips: Record<ClipName, string>;
  beforeAll(() => {
    clips = makeClips();
  });

  it('frames writes frame-<index>.png for the picked frames, equal to ffmpeg\'s decode', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vila-frames-'));
    const r = vila(['frames', '--video', clips.h264_high, '--frames', '4', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const want = [0, 6, 12, 18]; // np.linspace(0, 18, 4, dtype=int)
    expect(readdirSync(out).sort()).toEqual(want.map((k) => `frame-${k}.png`).sort());
    for (const k of want) expect(r.stdout).toContain(`wrote ${join(out, `frame-${k}.png`)} (frame ${k} at`);
    const ref = ffmpegFrames(clips.h264_high, want, ['-sws_flags', SWS_FLAGS]);
    const size = 64 * 48 * 3;
    for (const [i, k] of want.entries()) {
      const png = await sharp(join(out, `frame-${k}.png`)).raw().toBuffer();
      expect(png.equals(ref.subarray(i * size, (i + 1) * size)), `frame ${k}`).toBe(true);
    }
  });

  it('frames: default count from the model (8), black paddings for a short clip, wasm decoder', () => {
    const out = mkdtempSync(join(tmpdir(), 'vila-frames-'));
    const r = vila(['frames', '--video', clips.short, '--out', out, '--video-decoder', 'wasm']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('decoded by wasm');
    expect(readdirSync(out).sort()).toEqual(['frame-0.png', 'frame-1.png', 'frame-2.png', 'frame-3.png', 'frame-4.png', 'pad-0.png', 'pad-1.png', 'pad-2.png']);
  });

  it('errors: one line naming the file; 2 for a missing file, 1 for a file that is not MP4', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vila-frames-'));
    const missing = join(dir, 'missing.mp4');
    let r = vila(['frames', '--video', missing, '--out', dir]);
    expect([r.code, r.stderr.trim()]).toEqual([2, `vila: InputError: ${missing}: video file not found`]);
    const text = join(dir, 'a.mp4');
    writeFileSync(text, 'not a video at all');
    r = vila(['generate', '--video', text, '--max-new-tokens', '1', 'hi']);
    expect([r.code, r.stderr.trim()]).toEqual([1, `vila: FormatError: ${text}: not an MP4 file`]);
    r = vila(['frames', '--video', clips.vp9, '--out', dir, '--frames', '0']);
    expect(r.code).toBe(2);
  });

  it('logits --video: 8 image slots by default (num_video_frames), --frames overrides, in order with --image', () => {
    const count = (args: string[]): number => {
      const r = vila(['logits', ...args, 'What happens?']);
      expect(r.stderr).toBe('');
      return (JSON.parse(r.stdout) as { input_ids: number[] }).input_ids.filter((t) => t === -200).length;
    };
    expect(count(['--video', clips.vp9])).toBe(8);
    expect(count(['--video', clips.vp9, '--frames', '3', '--image', join(root, 'test/fixtures/images/gradient_97x61.png'), '--video', clips.hevc])).toBe(7);
  });

  it('generate --video gives the same answer with the system ffmpeg, the wasm one, and no ffmpeg on PATH', () => {
    const args = ['generate', '--video', clips.h264_main, '--temperature', '0', '--max-new-tokens', '8', '--json', 'What is in the video?'];
    const system = vila([...args, '--video-decoder', 'system']);
    expect(system.stderr).toBe('');
    expect(system.code).toBe(0);
    const wasm = vila([...args, '--video-decoder', 'wasm']);
    expect(wasm.stdout).toBe(system.stdout);
    const noFfmpeg = vila(args, { ...process.env, PATH: mkdtempSync(join(tmpdir(), 'vila-nopath-')), VILA_VIDEO_DECODER: undefined });
    expect(noFfmpeg.stderr).toBe('');
    expect(noFfmpeg.stdout).toBe(system.stdout);
    const forced = vila([...args, '--video-decoder', 'system'], { ...process.env, PATH: mkdtempSync(join(tmpdir(), 'vila-nopath-')) });
    expect([forced.code, forced.stderr]).toEqual([1, expect.stringContaining('ffmpeg is not on PATH')]);
    expect(JSON.parse(system.stdout)).toHaveProperty('text');
  });
});
