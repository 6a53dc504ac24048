// Image preprocessing for the SigLIP vision tower, as upstream VILA 1.5 does it:
//
//   llava/mm_utils.py process_image (commit 1c88211, May 2024; unchanged in 54c9706):
//     image = Image.open(path).convert("RGB")                         -> decode.ts
//     if image_aspect_ratio == "resize":
//         image = image.resize((size["height"], size["width"]))        PIL default filter: BICUBIC
//     if image_aspect_ratio == "pad":
//         image = expand2square(image, tuple(int(x*255) for x in image_mean))
//     pixel_values = processor.preprocess(image)["pixel_values"][0]   SiglipImageProcessor
//
//   SiglipImageProcessor.preprocess (llava/model/multimodal_encoder/siglip/image_processing_siglip.py)
//   with transformers 4.36.2 image_transforms:
//     resize:    to size (height, width) or shortest_edge, with `resample`, through PIL (uint8 in,
//                uint8 out; a same-size resize is a copy, so after the 'resize' branch it is a no-op)
//     rescale:   (u8 * rescale_factor) in float64, then cast to float32
//     normalize: (x - mean) / std in float32, mean and std as float32 arrays
//     output:    channels first, (3, H, W) float32
//
// Every float32 step here rounds once with Math.fround after an exact double operation, which
// equals numpy's float32 result bit for bit (for +, -, *, / a double holds enough precision that
// rounding twice gives the correctly rounded float32).

import { readFile } from 'node:fs/promises';
import { ConfigError, InputError } from '../errors.js';
import { f32, type F32Tensor } from '../tensor.js';
import { decodeImage, type DecodeOptions, type RGBImage } from './decode.js';
import { resize, Resampling, type ResamplingFilter } from './resample.js';

export type { RGBImage } from './decode.js';
export type AspectRatio = 'resize' | 'pad';

export interface ImageSize {
  readonly height: number;
  readonly width: number;
}

/** preprocessor_config.json of a SigLIP vision tower; absent fields take SiglipImageProcessor's defaults. */
export interface ImageProcessorConfig {
  readonly file: string; // where it came from, for messages
  readonly doResize: boolean;
  readonly size: ImageSize | { readonly shortestEdge: number };
  /** `crop_size` when present: upstream's 'resize' branch prefers it (hasattr(processor, "crop_size")). */
  readonly cropSize: ImageSize | null;
  readonly resample: ResamplingFilter;
  readonly doRescale: boolean;
  readonly rescaleFactor: number;
  readonly doNormalize: boolean;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
}

// --- config -------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function bool(j: Json, key: string, dflt: boolean, file: string): boolean {
  const v = j[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(`field '${key}' must be true or false, got ${JSON.stringify(v)}`, file);
  return v;
}

function positiveInt(v: unknown, field: string, file: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`field '${field}' must be a positive integer, got ${JSON.stringify(v)}`, file);
  }
  return v;
}

function sizeDict(v: unknown, field: string, file: string, allowShortest: boolean): ImageSize | { shortestEdge: number } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ConfigError(`field '${field}' must be an object with height and width${allowShortest ? ' or shortest_edge' : ''}, got ${JSON.stringify(v)}`, file);
  }
  const d = v as Json;
  if ('height' in d || 'width' in d) {
    return { height: positiveInt(d.height, `${field}.height`, file), width: positiveInt(d.width, `${field}.width`, file) };
  }
  if (allowShortest && 'shortest_edge' in d) return { shortestEdge: positiveInt(d.shortest_edge, `${field}.shortest_edge`, file) };
  throw new ConfigError(`field '${field}' must have height and width${allowShortest ? ' or shortest_edge' : ''}, got ${JSON.stringify(v)}`, file);
}

function triple(j: Json, key: string, dflt: number, file: string, positive: boolean): [number, number, number] {
  const v = j[key];
  if (v === undefined) return [dflt, dflt, dflt];
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0);
  if (ok(v)) return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every(ok)) return [v[0] as number, v[1] as number, v[2] as number];
  throw new ConfigError(`field '${key}' must be a ${positive ? 'positive ' : ''}number or a list of 3, got ${JSON.stringify(v)}`, file);
}

/** Validate a parsed preprocessor_config.json; `file` names it in errors. */
export function parseImageProcessorConfig(json: unknown, file: string): ImageProcessorConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError('expected a JSON object', file);
  const j = json as Json;
  const type = j.image_processor_type;
  if (type !== undefined && type !== 'SiglipImageProcessor') {
    throw new ConfigError(`field 'image_processor_type' is ${JSON.stringify(type)}; only SiglipImageProcessor (VILA 1.5 SigLIP towers) is implemented`, file);
  }
  const resample = j.resample ?? Resampling.BICUBIC;
  if (typeof resample !== 'number' || !Object.values(Resampling).includes(resample as ResamplingFilter)) {
    throw new ConfigError(`field 'resample' must be a PIL filter number 0..5, got ${JSON.stringify(resample)}`, file);
  }
  const factor = j.rescale_factor ?? 1 / 255;
  if (typeof factor !== 'number' || !Number.isFinite(factor)) {
    throw new ConfigError(`field 'rescale_factor' must be a number, got ${JSON.stringify(factor)}`, file);
  }
  const convert = j.do_convert_rgb;
  // do_convert_rgb (true, false or null in published configs) has no effect: the image is RGB already.
  if (convert !== undefined && convert !== null && typeof convert !== 'boolean') {
    throw new ConfigError(`field 'do_convert_rgb' must be true, false or null, got ${JSON.stringify(convert)}`, file);
  }
  return {
    file,
    doResize: bool(j, 'do_resize', true, file),
    size: j.size === undefined ? { shortestEdge: 384 } : sizeDict(j.size, 'size', file, true),
    cropSize: j.crop_size === undefined ? null : (sizeDict(j.crop_size, 'crop_size', file, false) as ImageSize),
    resample: resample as ResamplingFilter,
    doRescale: bool(j, 'do_rescale', true, file),
    rescaleFactor: factor,
    doNormalize: bool(j, 'do_normalize', true, file),
    imageMean: triple(j, 'image_mean', 0.5, file, false),
    imageStd: triple(j, 'image_std', 0.5, file, true),
  };
}

/** Read and validate a preprocessor_config.json. */
export async function loadImageProcessorConfig(path: string): Promise<ImageProcessorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read preprocessor config: ${(e as Error).message}`, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`not valid JSON: ${(e as Error).message}`, path);
  }
  return parseImageProcessorConfig(json, path);
}

// --- geometry ------------------------------------------------------------------------------------

/** Upstream's pad colour: tuple(int(x * 255) for x in image_mean), truncated toward zero. */
export function padColour(cfg: ImageProcessorConfig): [number, number, number] {
  const c = cfg.imageMean.map((m) => Math.trunc(m * 255));
  if (c.some((v) => v < 0 || v > 255)) {
    throw new ConfigError(`field 'image_mean' gives pad colour (${c.join(', ')}) outside 0..255`, cfg.file);
  }
  return [c[0]!, c[1]!, c[2]!];
}

/** mm_utils.py expand2square: centre on a square of `fill`, offset (long - short) // 2. */
export function expandToSquare(img: RGBImage, fill: readonly [number, number, number]): RGBImage {
  const { width: w, height: h } = img;
  if (w === h) return img;
  const s = Math.max(w, h);
  const out = new Uint8Array(s * s * 3);
  for (let i = 0; i < s * s; i++) out.set(fill, i * 3);
  const dx = w > h ? 0 : (h - w) >> 1;
  const dy = w > h ? (w - h) >> 1 : 0;
  for (let y = 0; y < h; y++) out.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((y + dy) * s + dx) * 3);
  return { width: s, height: s, channels: 3, data: out };
}

function resizeRGB(img: RGBImage, width: number, height: number, filter: ResamplingFilter): RGBImage {
  const r = resize(img, width, height, filter);
  return { width: r.width, height: r.height, channels: 3, data: r.data };
}

/** transformers get_resize_output_image_size: (height, width) for the processor's `size`. */
function processorSize(img: RGBImage, size: ImageProcessorConfig['size']): ImageSize {
  if ('height' in size) return size;
  const { width: w, height: h } = img;
  const [short, long] = w <= h ? [w, h] : [h, w];
  const newShort = size.shortestEdge;
  const newLong = Math.trunc((newShort * long) / short); // int(requested_new_short * long / short)
  return w <= h ? { height: newLong, width: newShort } : { height: newShort, width: newLong };
}

// --- pixel values -------------------------------------------------------------------------------

/**
 * The float32 value of each byte 0..255 for each channel: rescale (float64 product, cast to
 * float32) then normalize ((x - mean) / std in float32), as HF does them.
 */
function pixelTable(cfg: ImageProcessorConfig): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(cfg.imageMean[c]!);
    const std = Math.fround(cfg.imageStd[c]!);
    for (let v = 0; v < 256; v++) {
      let x = cfg.doRescale ? Math.fround(v * cfg.rescaleFactor) : v;
      if (cfg.doNormalize) x = Math.fround(Math.fround(x - mean) / std);
      table[c * 256 + v] = x;
    }
  }
  return table;
}

/**
 * Upstream process_image after decoding: the 'resize' or 'pad' geometry, the SigLIP processor's
 * resize, then rescale and normalize. Returns pixel_values (3, H, W) float32, (3, S, S) for the
 * VILA 1.5 configs.
 */
export function preprocess(img: RGBImage, cfg: ImageProcessorConfig, aspect: AspectRatio): F32Tensor {
  if (img.channels !== 3 || img.data.length !== img.width * img.height * 3) {
    throw new InputError(`preprocess: expected an RGB image of ${img.width}x${img.height}x3 bytes, got ${img.data.length}`);
  }
  let im = img;
  if (aspect === 'resize') {
    const crop = cfg.cropSize ?? cfg.size;
    if (!('height' in crop)) {
      throw new ConfigError(`field 'size' has shortest_edge; image_aspect_ratio 'resize' needs size.height and size.width`, cfg.file);
    }
    // Upstream passes (height, width) where PIL expects (width, height); kept for non-square sizes.
    im = resizeRGB(im, crop.height, crop.width, Resampling.BICUBIC);
  } else if (aspect === 'pad') {
    im = expandToSquare(im, padColour(cfg));
  } else {
    throw new InputError(`preprocess: image_aspect_ratio must be 'resize' or 'pad', got ${JSON.stringify(aspect)}`);
  }
  if (cfg.doResize) {
    const s = processorSize(im, cfg.size);
    im = resizeRGB(im, s.width, s.height, cfg.resample);
  }
  const { width: w, height: h, data } = im;
  const table = pixelTable(cfg);
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const t = table.subarray(c * 256, (c + 1) * 256);
    const o = c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = t[data[i * 3 + c]!]!;
  }
  return f32(out, [3, h, w]);
}

/** Decode an image file and preprocess it: upstream process_image for one file. */
export async function loadImage(
  path: string,
  cfg: ImageProcessorConfig,
  aspect: AspectRatio,
  opts: DecodeOptions = {},
): Promise<F32Tensor> {
  return preprocess(await decodeImage(path, opts), cfg, aspect);
}
