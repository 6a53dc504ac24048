// A prompt's media: images and videos in the order the model sees them. Each video becomes N
// frames fed as N images (upstream run_vila.py: `images = opencv_extract_frames(video_file,
// args.num_video_frames)`, then the same process_images as image files, and "<image>\n" once per
// image in front of the query), so a prompt with images and videos has
// images + N × videos image slots.

import { InputError } from '../errors.js';
import { decodeImage, type DecodeOptions, type RGBImage } from './decode.js';
import { extractVideoFrames, type VideoDecoderChoice } from './video/index.js';

/** One image file, or one video file (optionally with its own frame count). */
export type MediaPart = { readonly image: string } | { readonly video: string; readonly frames?: number };

export interface MediaRequest {
  /** Image files, in order (before `videos` unless `media` gives the order). */
  readonly images?: readonly string[];
  /** MP4 video files (H.264, HEVC, VP9), in order, after `images`. */
  readonly videos?: readonly string[];
  /** Images and videos interleaved in the order given; instead of `images` / `videos`. */
  readonly media?: readonly MediaPart[];
  /** Frames per video; default the model's num_video_frames. */
  readonly videoFrames?: number;
  /** Video decoder: 'auto' (default), 'system' ffmpeg or 'wasm' (@ffmpeg/core). */
  readonly videoDecoder?: VideoDecoderChoice;
}

/** The request's media parts in model order. */
export function mediaParts(req: MediaRequest): MediaPart[] {
  if (req.media !== undefined) {
    if ((req.images?.length ?? 0) > 0 || (req.videos?.length ?? 0) > 0) throw new InputError('give media either as `media` or as `images` / `videos`, not both');
    return [...req.media];
  }
  return [...(req.images ?? []).map((image) => ({ image })), ...(req.videos ?? []).map((video) => ({ video }))];
}

/** Frames a video part gives: its own count, else the request's, else the model's default. */
export function framesOf(part: MediaPart, req: MediaRequest, modelDefault: number): number {
  const n = ('video' in part ? part.frames : undefined) ?? req.videoFrames ?? modelDefault;
  if (!Number.isInteger(n) || n < 1) throw new InputError(`number of video frames must be a whole number ≥ 1, got ${n}`);
  return n;
}

/** The number of images the parts become (what the prompt needs "<image>" for). */
export function imageCount(req: MediaRequest, modelDefault: number): number {
  return mediaParts(req).reduce((n, p) => n + ('video' in p ? framesOf(p, req, modelDefault) : 1), 0);
}

/** Decode every part to RGB images, in order (videos expanded to their frames). */
export async function decodeMedia(req: MediaRequest, modelDefault: number, decode: DecodeOptions = {}): Promise<RGBImage[]> {
  const out: RGBImage[] = [];
  for (const p of mediaParts(req)) {
    if ('video' in p) {
      const opts = req.videoDecoder === undefined ? {} : { decoder: req.videoDecoder };
      out.push(...(await extractVideoFrames(p.video, framesOf(p, req, modelDefault), opts)).images);
    } else {
      out.push(await decodeImage(p.image, decode));
    }
  }
  return out;
}
