// The system ffmpeg as a frame decoder: one child process per video, the file read by FFmpeg's
// own demuxer, raw rgb24 frames on stdout. FFmpeg ≥ 5.1 (-fps_mode); Debian 12 ships 5.1.

import { spawn } from 'node:child_process';
import type { RGBImage } from '../decode.js';
import { MediaError } from '../../errors.js';
import { ffmpegOutputArgs, splitFrames, type FrameDecoder } from './decoder.js';

/** The ffmpeg executable: $VILA_FFMPEG, else `ffmpeg` on PATH. */
export function systemFfmpegPath(): string {
  return process.env.VILA_FFMPEG ?? 'ffmpeg';
}

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  error?: NodeJS.ErrnoException;
}

function run(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(systemFfmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error: NodeJS.ErrnoException | undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => (error = e));
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), ...(error === undefined ? {} : { error }) }),
    );
  });
}

let available: Promise<boolean> | undefined;

/** Whether `ffmpeg -version` runs (checked once per process). */
export function systemFfmpegAvailable(): Promise<boolean> {
  available ??= run(['-hide_banner', '-version']).then((r) => r.error === undefined && r.code === 0);
  return available;
}

export const systemDecoder: FrameDecoder = {
  name: 'system',
  async decode(path: string, indices: readonly number[], width: number, height: number): Promise<RGBImage[]> {
    const r = await run(['-nostdin', '-hide_banner', '-loglevel', 'error', '-noautorotate', '-i', path, ...ffmpegOutputArgs(indices), 'pipe:1']);
    if (r.error !== undefined) throw new MediaError(`cannot run ${systemFfmpegPath()}: ${r.error.message}`, path);
    if (r.code !== 0) {
      const last = r.stderr.trim().split('\n').pop() ?? '';
      throw new MediaError(`ffmpeg failed (exit ${r.code}): ${last}`, path);
    }
    return splitFrames(r.stdout, indices.length, width, height, path, 'system');
  },
};
