// What both decoders share: the FFmpeg command line that turns chosen display-order frames of a
// file into raw RGB, and splitting its output into images.
//
// Colour (the same for the system ffmpeg and the WebAssembly build, both FFmpeg 5.1's swscale):
// - matrix and range from the stream's tags (libavfilter vf_scale, in_color_matrix/in_range
//   "auto"); an untagged stream (what libx264/libx265/libvpx write by default) is BT.601,
//   limited range (Y 16..235, Cb/Cr 16..240), the same assumption OpenCV's FFmpeg reader makes;
// - output: full-range 8-bit RGB (rgb24); chroma is replicated (nearest), as in swscale's default
//   unscaled yuv420p→rgb24 path that plain `ffmpeg -pix_fmt rgb24` and OpenCV's reader take;
// - sws_flags neighbor+accurate_rnd+bitexact: the default path runs x86 SIMD code on a native
//   ffmpeg and C code in the WebAssembly build, which round differently (measured ±2 on ~40% of
//   the bytes of the test clips). These flags route both through the same exact C arithmetic:
//   identical bytes on both paths, equal to `ffmpeg -i clip -vf select=... -sws_flags
//   neighbor+accurate_rnd+bitexact -pix_fmt rgb24`, and within ±2 (mean 0.4) of the plain command.
//   (bicubic+accurate_rnd is exact too, but interpolates chroma: up to 40 away at colour edges.)

import type { RGBImage } from '../decode.js';
import { MediaError } from '../../errors.js';

export const SWS_FLAGS = 'neighbor+accurate_rnd+bitexact';

/** Decoder names for --video-decoder. */
export const VIDEO_DECODERS = ['auto', 'system', 'wasm'] as const;
export type VideoDecoderChoice = (typeof VIDEO_DECODERS)[number];

export interface FrameDecoder {
  readonly name: 'system' | 'wasm';
  /** Decode the frames with these display indices (ascending, distinct) of the file's first video stream. */
  decode(path: string, indices: readonly number[], width: number, height: number): Promise<RGBImage[]>;
}

/**
 * ffmpeg arguments after the input: the first video stream, the frames whose display index n
 * (counted after the edit list, as FFmpeg's demuxer applies it) is in `indices`, passed through
 * without frame-rate conversion (the default for rawvideo would duplicate frames to fill the
 * gaps), as rgb24.
 */
export function ffmpegOutputArgs(indices: readonly number[]): string[] {
  const select = indices.map((k) => `eq(n\\,${k})`).join('+');
  return ['-map', '0:v:0', '-an', '-sn', '-vf', `select=${select}`, '-sws_flags', SWS_FLAGS, '-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo'];
}

/** Split ffmpeg's raw rgb24 output into one image per requested frame. */
export function splitFrames(raw: Uint8Array, count: number, width: number, height: number, path: string, decoder: string): RGBImage[] {
  const size = width * height * 3;
  if (raw.length !== size * count) {
    throw new MediaError(
      `the ${decoder} ffmpeg decoder gave ${raw.length} bytes, expected ${count} frame(s) of ${width}x${height} RGB (${size * count} bytes): the file is damaged or its frames disagree with its sample table`,
      path,
    );
  }
  return Array.from({ length: count }, (_, i) => ({ width, height, channels: 3 as const, data: raw.slice(i * size, (i + 1) * size) }));
}
