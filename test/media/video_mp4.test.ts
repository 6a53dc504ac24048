// mp4box demuxing: codec, display order, the edit list, and the typed errors that name the file.
// The display-order frame table must agree with the number of frames FFmpeg shows (its mov
// demuxer applies the same edit list), since the decoders pick frames by that index.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, InputError } from '../../src/errors.js';
import { readMp4 } from '../../src/media/video/mp4.js';
import { ffmpeg, ffmpegFrameCount, HAVE_FFMPEG, makeClips, NO_FFMPEG_REASON, type ClipName } from './video_clips.js';

describe.skipIf(!HAVE_FFMPEG)(`mp4 demux (${HAVE_FFMPEG ? 'clips made with ffmpeg' : `skipped: ${NO_FFMPEG_REASON}`})`, () => {
  let clips: Record<ClipName, string>;
  beforeAll(() => {
    clips = makeClips();
  });

  it('reads codec, size and one shown frame per ffmpeg-decoded frame, in display order', async () => {
    const want: Record<ClipName, [string, number]> = {
      h264_baseline: ['h264', 20],
      h264_main: ['h264', 20],
      h264_high: ['h264', 20],
      hevc: ['hevc', 20],
      vp9: ['vp9', 20],
      cut: ['h264', 14],
      short: ['h264', 5],
    };
    for (const [name, [codec, count]] of Object.entries(want)) {
      const info = await readMp4(clips[name as ClipName]);
      expect([name, info.codec, info.width, info.height]).toEqual([name, codec, 64, 48]);
      expect([name, info.frames.length]).toEqual([name, count]);
      expect([name, ffmpegFrameCount(clips[name as ClipName])]).toEqual([name, count]);
      const cts = info.frames.map((f) => f.cts);
      expect(cts).toEqual([...cts].sort((a, b) => a - b));
    }
  });

  it('B-frames: display order differs from decode order', async () => {
    const info = await readMp4(clips.h264_high);
    const samples = info.frames.map((f) => f.sample);
    expect(samples).not.toEqual([...samples].sort((a, b) => a - b));
    expect(info.frames[0]!.sync).toBe(true);
    expect(info.frames[0]!.time).toBe(0); // the edit list's media_time removes the B-frame delay
  });

  it('edit list: a stream copy from 0.55 s shows frames 6..19 of the original', async () => {
    const cut = await readMp4(clips.cut);
    const orig = await readMp4(clips.h264_high);
    expect(cut.samples).toBe(20); // the GOP is kept from its key frame; the edit hides frames 0..5
    expect(cut.frames.map((f) => f.cts)).toEqual(orig.frames.slice(6).map((f) => f.cts));
    expect(cut.frames[0]!.time).toBeCloseTo(0.05, 6); // the edit starts at 0.55 s, frame 6 at 0.6 s
  });

  it('errors name the file: missing, not MP4, WebM, no video track, unsupported codec, zero frames', async () => {
    const dir = join(clips.vp9, '..');
    const notMp4 = join(dir, 'notes.txt');
    writeFileSync(notMp4, 'hello, not a video');
    const webm = join(dir, 'clip.webm');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-frames:v', '3', '-c:v', 'libvpx-vp9', webm);
    const audio = join(dir, 'audio.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'sine=d=0.2', '-c:a', 'aac', audio);
    const mpeg4 = join(dir, 'mpeg4.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-frames:v', '3', '-c:v', 'mpeg4', mpeg4);
    const empty = join(dir, 'empty.mp4');
    ffmpeg('-ss', '5', '-i', clips.h264_high, '-c', 'copy', empty);
    const cases: [string, new (...a: never[]) => Error, RegExp][] = [
      [join(dir, 'missing.mp4'), InputError, /not found/],
      [notMp4, FormatError, /not an MP4 file/],
      [webm, FormatError, /WebM/],
      [audio, FormatError, /no video track/],
      [mpeg4, FormatError, /unsupported video codec 'mp4v'/],
      [empty, FormatError, /no frames/],
    ];
    for (const [path, type, message] of cases) {
      const e = await readMp4(path).then(() => undefined, (err: unknown) => err);
      expect(e, path).toBeInstanceOf(type);
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message.startsWith(path)).toBe(true);
    }
  });
});
