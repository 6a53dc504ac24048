// Image decoding with sharp, giving the same RGB bytes as upstream's `Image.open(p).convert('RGB')`
// (Pillow 9.4). What upstream VILA 1.5 does, and so what is the default here:
//
//   llava/eval/run_vila.py load_image:   image = Image.open(image_file).convert("RGB")
//   llava/mm_utils.py process_image:     image = Image.open(...).convert("RGB") ... image.convert("RGB")
//
// - Alpha is DROPPED, not composited: Pillow's convert('RGB') of RGBA/LA/PA just discards the alpha
//   band (Convert.c rgba2rgb / la2rgb copy the colour). The HF processor's convert_to_rgb is
//   also a plain `image.convert("RGB")` (transformers image_transforms.py), and a no-op here since
//   the image is already RGB. `alpha: 'white'` instead pastes onto white with Pillow's integer
//   blend (compositeOnto below), for callers that want flattened transparency.
// - EXIF orientation is NOT applied: Image.open never rotates (that is ImageOps.exif_transpose,
//   which upstream does not call). `exifOrientation: true` applies it (sharp autoOrient).
// - ICC profiles are ignored: Pillow never colour-manages on open (sharp `ignoreIcc`).
// - Colour conversions follow Pillow's Convert.c / Unpack.c, not libvips':
//     L, 1, P, LA, RGBA, 8-bit: colour channels as stored (palette expanded), alpha dropped;
//     16-bit RGB(A), 16-bit LA: the high byte (PngImagePlugin rawmodes RGB;16B, RGBA;16B, LA;16B);
//     16-bit grey without alpha: Pillow opens it as mode "I" and i2rgb CLIPS to 0..255 (a 16-bit
//       grey PNG mostly comes out white; faithful, if surprising);
//     CMYK (JPEG, Adobe-inverted as Pillow assumes): cmyk2rgb, nk - nk*c/255 with Pillow's rounding.

import { readFile } from 'node:fs/promises';
import type { Sharp, SharpOptions } from 'sharp';
import { MediaError } from '../errors.js';

/** An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B. */
export interface RGBImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 3;
  readonly data: Uint8Array; // (height, width, 3)
}

export interface DecodeOptions {
  /** 'drop' (default, upstream VILA 1.5) or 'white' (composite onto white with Pillow's paste). */
  alpha?: 'drop' | 'white';
  /** Apply the EXIF orientation tag (default false: Pillow's Image.open does not). */
  exifOrientation?: boolean;
}

/** Decoded colour plus the alpha band when the file has one (both 8-bit). */
interface Decoded {
  rgb: RGBImage;
  alpha: Uint8Array | null; // (height, width)
}

/** Decode an image file (anything sharp reads: PNG, JPEG, WebP, GIF, TIFF, AVIF, ...) to RGB. */
export async function decodeImage(path: string, opts: DecodeOptions = {}): Promise<RGBImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new MediaError(`cannot read image file: ${(e as Error).message}`, path);
  }
  return decodeImageBuffer(bytes, path, opts);
}

/** As decodeImage, for bytes already in memory; `name` is used in error messages. */
export async function decodeImageBuffer(bytes: Uint8Array, name: string, opts: DecodeOptions = {}): Promise<RGBImage> {
  const { rgb, alpha } = await decodeRaw(bytes, name, opts.exifOrientation ?? false);
  if (alpha === null || (opts.alpha ?? 'drop') === 'drop') return rgb;
  return compositeOnto(rgb, alpha, [255, 255, 255]);
}

/**
 * Paste `rgb` with mask `alpha` onto a solid background, as Pillow's
 * `Image.new('RGBA', size, bg).paste(im, (0, 0), im)` then `.convert('RGB')` (the usual
 * flatten-onto-white idiom; not what upstream VILA 1.5 does). Pillow Paste.c paste_mask_RGBA uses
 * BLEND(a, out, in) = DIV255(out*(255-a) + in*a), with DIV255(x) = ((x+128) + ((x+128) >> 8)) >> 8
 * (ImagingUtils.h), an exact round-to-nearest x/255 for these ranges.
 */
export function compositeOnto(img: RGBImage, alpha: Uint8Array, bg: readonly [number, number, number]): RGBImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const src = img.data;
  for (let i = 0; i < n; i++) {
    const a = alpha[i]!;
    for (let c = 0; c < 3; c++) {
      const t = bg[c]! * (255 - a) + src[i * 3 + c]! * a + 128;
      out[i * 3 + c] = ((t >> 8) + t) >> 8;
    }
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** sharp's error message, without a trailing newline. */
function sharpMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).trim();
}

/** sharp, loaded on the first image: its native library costs ~0.25 s at start, which commands without images need not pay. */
let sharpModule: Promise<(input: Uint8Array, options: SharpOptions) => Sharp> | undefined;
export function loadSharp(): Promise<(input: Uint8Array, options: SharpOptions) => Sharp> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}

async function decodeRaw(bytes: Uint8Array, name: string, autoOrient: boolean): Promise<Decoded> {
  const sharp = await loadSharp();
  // failOn 'error': decoder errors and truncated data fail, as in Pillow (without
  // ImageFile.LOAD_TRUNCATED_IMAGES); decoder warnings (libjpeg's "extraneous bytes before
  // marker", ...) do not, since Pillow ignores them too.
  const open = () => sharp(bytes, { ignoreIcc: true, failOn: 'error', autoOrient });
  let space: string | undefined;
  try {
    space = (await open().metadata()).space;
  } catch (e) {
    throw new MediaError(`cannot decode image: ${sharpMessage(e)}`, name);
  }
  try {
    switch (space) {
      case 'srgb':
      case 'b-w': {
        // libvips turns grey into sRGB by replicating the band (B_W -> sRGB involves no colour
        // math); alpha is kept. (toColourspace('b-w') would drop the alpha band.)
        const { data, info } = await open().raw().toBuffer({ resolveWithObject: true });
        return split8(data, info.width, info.height, info.channels);
      }
      case 'rgb16':
      case 'grey16': {
        const { data, info } = await open()
          .pipelineColourspace(space)
          .toColourspace(space)
          .raw({ depth: 'ushort' })
          .toBuffer({ resolveWithObject: true });
        const u16 = new Uint16Array(data.buffer, data.byteOffset, data.length >> 1);
        return split16(u16, info.width, info.height, info.channels);
      }
      case 'cmyk': {
        const { data, info } = await open()
          .pipelineColourspace('cmyk')
          .toColourspace('cmyk')
          .raw()
          .toBuffer({ resolveWithObject: true });
        if (info.channels !== 4) break;
        return { rgb: cmykToRgb(data, info.width, info.height), alpha: null };
      }
    }
  } catch (e) {
    throw new MediaError(`cannot decode image: ${sharpMessage(e)}`, name);
  }
  throw new MediaError(`unsupported colour space '${space ?? 'unknown'}' (Pillow's convert('RGB') is mirrored for sRGB, grey, 16-bit and CMYK images)`, name);
}

/** 8-bit bands: 1 = L, 2 = LA, 3 = RGB, 4 = RGBA. Grey is replicated; alpha is kept apart. */
function split8(src: Uint8Array, w: number, h: number, ch: number): Decoded {
  const n = w * h;
  const rgb = new Uint8Array(n * 3);
  const hasAlpha = ch === 2 || ch === 4;
  const alpha = hasAlpha ? new Uint8Array(n) : null;
  const colour = hasAlpha ? ch - 1 : ch;
  for (let i = 0; i < n; i++) {
    const s = i * ch;
    if (colour === 1) {
      const v = src[s]!;
      rgb[i * 3] = v;
      rgb[i * 3 + 1] = v;
      rgb[i * 3 + 2] = v;
    } else {
      rgb[i * 3] = src[s]!;
      rgb[i * 3 + 1] = src[s + 1]!;
      rgb[i * 3 + 2] = src[s + 2]!;
    }
    if (alpha !== null) alpha[i] = src[s + colour]!;
  }
  return { rgb: { width: w, height: h, channels: 3, data: rgb }, alpha };
}

/**
 * 16-bit bands. Pillow keeps the high byte of every band (rawmodes RGB;16B, RGBA;16B, LA;16B),
 * except a lone grey band, which it opens as 32-bit "I" and converts with i2rgb: clip to 0..255.
 */
function split16(src: Uint16Array, w: number, h: number, ch: number): Decoded {
  const n = w * h;
  const bytes = new Uint8Array(n * ch);
  for (let i = 0; i < n * ch; i++) {
    const v = src[i]!;
    bytes[i] = ch === 1 ? (v > 255 ? 255 : v) : v >> 8;
  }
  return split8(bytes, w, h, ch);
}

/** Pillow Convert.c cmyk2rgb: nk = 255 - k; out = clip8(nk - MULDIV255(c, nk)). */
function cmykToRgb(src: Uint8Array, w: number, h: number): RGBImage {
  const n = w * h;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const nk = 255 - src[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = src[i * 4 + c]! * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width: w, height: h, channels: 3, data: out };
}
