// FFmpeg compiled to WebAssembly (@ffmpeg/core 0.12.10: FFmpeg 5.1.4 built with Emscripten
// 3.1.40, single-threaded, GPL-2.0-or-later) as a frame decoder, for machines without ffmpeg.
//
// The package is built for browsers and web workers (ENVIRONMENT_IS_NODE is false), but its
// module factory runs in Node 20 given two things: the wasm bytes as `wasmBinary` (read from
// node_modules, so nothing is fetched), and a `self` global while the factory starts (the
// worker branch reads `self.location.href` once, to find its own folder). One instance per
// process is loaded on first use (~0.3 s) and reused; files pass through its in-memory FS.
// exec() runs ffmpeg's main() synchronously, so calls never overlap.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FFmpegCoreModule } from '@ffmpeg/core';
import type { RGBImage } from '../decode.js';
import { MediaError } from '../../errors.js';
import { ffmpegOutputArgs, splitFrames, type FrameDecoder } from './decoder.js';

let core: Promise<FFmpegCoreModule> | undefined;
let log: string[] = [];

async function instantiate(): Promise<FFmpegCoreModule> {
  const { default: createFFmpegCore } = await import('@ffmpeg/core');
  const wasmPath = createRequire(import.meta.url).resolve('@ffmpeg/core/wasm');
  const wasmBinary = await readFile(wasmPath);
  const g = globalThis as { self?: unknown };
  const hadSelf = 'self' in g;
  const saved = g.self;
  if (!hadSelf) g.self = { location: { href: import.meta.url } };
  try {
    const m = await createFFmpegCore({
      wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer,
    });
    m.setLogger(({ message }) => log.push(message));
    return m;
  } finally {
    if (!hadSelf) delete g.self;
    else g.self = saved;
  }
}

/** The shared WebAssembly ffmpeg, loaded on first use. */
export function loadWasmFfmpeg(): Promise<FFmpegCoreModule> {
  core ??= instantiate().catch((e: unknown) => {
    core = undefined;
    throw new MediaError(`cannot load the WebAssembly ffmpeg (@ffmpeg/core): ${(e as Error).message}`);
  });
  return core;
}

let serial = 0;

export const wasmDecoder: FrameDecoder = {
  name: 'wasm',
  async decode(path: string, indices: readonly number[], width: number, height: number): Promise<RGBImage[]> {
    const [ff, bytes] = await Promise.all([loadWasmFfmpeg(), readFile(path)]);
    const n = serial++;
    const input = `/in${n}.mp4`;
    const output = `/out${n}.rgb`;
    ff.FS.writeFile(input, bytes);
    log = [];
    try {
      ff.reset();
      const code = ff.exec('-hide_banner', '-loglevel', 'error', '-noautorotate', '-i', input, ...ffmpegOutputArgs(indices), output);
      if (code !== 0) throw new MediaError(`the WebAssembly ffmpeg failed (exit ${code}): ${log.join(' ').trim() || 'no message'}`, path);
      return splitFrames(ff.FS.readFile(output), indices.length, width, height, path, 'wasm');
    } finally {
      for (const f of [input, output]) {
        try {
          ff.FS.unlink(f);
        } catch {
          // not written
        }
      }
    }
  },
};
