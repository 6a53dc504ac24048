// Video input: demux (mp4.ts), pick frames by VILA's rule (frames.ts), decode them with the system
// ffmpeg or the WebAssembly one (ffmpeg_system.ts, ffmpeg_wasm.ts) into RGB images, in the order
// upstream feeds them to the model.

import type { RGBImage } from '../decode.js';
import { InputError, MediaError } from '../../errors.js';
import { VIDEO_DECODERS, type FrameDecoder, type VideoDecoderChoice } from './decoder.js';
import { systemDecoder, systemFfmpegAvailable } from './ffmpeg_system.js';
import { wasmDecoder } from './ffmpeg_wasm.js';
import { framesToDecode, pickFrames, type FramePick } from './frames.js';
import { readMp4, type VideoTrackInfo } from './mp4.js';

export { VIDEO_DECODERS, SWS_FLAGS, type VideoDecoderChoice, type FrameDecoder } from './decoder.js';
export { pickFrames, linspaceInt, framesToDecode, type FramePick } from './frames.js';
export { readMp4, type VideoTrackInfo, type DisplayFrame } from './mp4.js';
export { systemFfmpegAvailable } from './ffmpeg_system.js';

export interface VideoOptions {
  /** 'auto' (default: the system ffmpeg when on PATH, else WebAssembly), 'system' or 'wasm'; env VILA_VIDEO_DECODER. */
  readonly decoder?: VideoDecoderChoice;
}

export interface VideoFrames {
  readonly info: VideoTrackInfo;
  readonly picks: readonly FramePick[];
  /** One image per pick, in the same order (black paddings included). */
  readonly images: readonly RGBImage[];
  /** The decoder used; undefined when nothing needed decoding. */
  readonly decoder?: 'system' | 'wasm';
}

/** The decoder a choice (or $VILA_VIDEO_DECODER, or 'auto') resolves to. */
export async function resolveDecoder(choice?: string): Promise<FrameDecoder> {
  const name = choice ?? process.env.VILA_VIDEO_DECODER ?? 'auto';
  if (!(VIDEO_DECODERS as readonly string[]).includes(name)) {
    throw new InputError(`video decoder must be one of ${VIDEO_DECODERS.join(', ')}, got '${name}'${choice === undefined ? ' (from VILA_VIDEO_DECODER)' : ''}`);
  }
  if (name === 'wasm') return wasmDecoder;
  const system = await systemFfmpegAvailable();
  if (name === 'system' && !system) throw new MediaError('video decoder "system" asked for, but ffmpeg is not on PATH (set VILA_FFMPEG, or use the wasm decoder)');
  return system ? systemDecoder : wasmDecoder;
}

/** The `numFrames` images VILA 1.5 sees for an MP4 video (upstream opencv_extract_frames). */
export async function extractVideoFrames(path: string, numFrames: number, opts: VideoOptions = {}): Promise<VideoFrames> {
  if (!Number.isInteger(numFrames) || numFrames < 1) throw new InputError(`number of video frames must be a whole number ≥ 1, got ${numFrames}`, path);
  const info = await readMp4(path);
  const picks = pickFrames(info.frames.length, numFrames, info.width, info.height);
  const wanted = framesToDecode(picks);
  let decoder: FrameDecoder | undefined;
  const byIndex = new Map<number, RGBImage>();
  if (wanted.length > 0) {
    decoder = await resolveDecoder(opts.decoder);
    const decoded = await decoder.decode(path, wanted, info.width, info.height);
    wanted.forEach((k, i) => byIndex.set(k, decoded[i]!));
  }
  const images = picks.map((p): RGBImage => {
    if (p.kind === 'frame') return byIndex.get(p.index)!;
    return { width: p.width, height: p.height, channels: 3, data: new Uint8Array(p.width * p.height * 3) };
  });
  return { info, picks, images, ...(decoder === undefined ? {} : { decoder: decoder.name }) };
}
