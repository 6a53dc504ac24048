// Test clips, generated with the system ffmpeg (Debian's; .ci/run installs it), never downloaded:
// 64x48 testsrc2 (a moving pattern with the frame number drawn), 10 fps, 20 frames unless said.
// main/high/HEVC have B-frames, so decode order ≠ display order and ffmpeg writes an edit list
// whose media_time skips the B-frame delay; `cut` is a stream copy started mid-clip (-ss), so
// its edit list hides the first frames of the GOP.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAVE_FFMPEG = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
export const NO_FFMPEG_REASON = 'ffmpeg is not on PATH: the test clips are generated with it (apt-get install ffmpeg)';

const SRC = ['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10'];
const X264 = (profile: string, bf: number): string[] => ['-c:v', 'libx264', '-profile:v', profile, '-bf', String(bf), '-pix_fmt', 'yuv420p'];

/** name → encoder arguments (after the input). */
export const CLIPS = {
  h264_baseline: [...X264('baseline', 0)],
  h264_main: [...X264('main', 2)],
  h264_high: [...X264('high', 3)],
  hevc: ['-c:v', 'libx265', '-x265-params', 'log-level=error:bframes=2', '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p'],
  vp9: ['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p'],
} as const;
export type ClipName = keyof typeof CLIPS | 'cut' | 'short';

export function ffmpeg(...args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 64 << 20 });
}

/** Make every clip in a fresh folder; returns name → path. */
export function makeClips(): Record<ClipName, string> {
  const dir = mkdtempSync(join(tmpdir(), 'vila-video-'));
  const out = {} as Record<ClipName, string>;
  for (const [name, enc] of Object.entries(CLIPS)) {
    out[name as ClipName] = join(dir, `${name}.mp4`);
    ffmpeg(...SRC, '-frames:v', '20', ...enc, out[name as ClipName]);
  }
  out.cut = join(dir, 'cut.mp4');
  ffmpeg('-ss', '0.55', '-i', out.h264_high, '-c', 'copy', out.cut);
  out.short = join(dir, 'short.mp4');
  ffmpeg(...SRC, '-frames:v', '5', ...CLIPS.h264_main, out.short);
  return out;
}

/** ffmpeg's own decode of display frames `ks` (ascending) as rgb24, concatenated (extra: e.g. -sws_flags). */
export function ffmpegFrames(path: string, ks: readonly number[], extra: string[] = []): Buffer {
  const select = ks.map((k) => `eq(n\\,${k})`).join('+');
  return ffmpeg('-i', path, '-map', '0:v:0', '-vf', `select=${select}`, ...extra, '-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1');
}

/** One frame: ffmpegFrames for frame k alone. */
export const ffmpegFrame = (path: string, k: number, extra: string[] = []): Buffer => ffmpegFrames(path, [k], extra);

/** How many frames ffmpeg decodes and shows from the file. */
export function ffmpegFrameCount(path: string): number {
  return ffmpegFrameRaw(path).length / (64 * 48 * 3);
}

function ffmpegFrameRaw(path: string): Buffer {
  return ffmpeg('-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1');
}
