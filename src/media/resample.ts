// Pillow's resize, byte for byte: a port of Pillow 9.4.0 src/libImaging/Resample.c (the separable
// antialiasing resampler behind Image.resize for BOX, BILINEAR, HAMMING, BICUBIC and LANCZOS),
// of the NEAREST path (_imaging.c _resize -> Geometry.c ImagingScaleAffine) and of the shortcuts in
// Image.resize / _resize (same size: copy; integer box of the output size: crop).
//
// Numerics, as in C on x86-64 (SSE2 doubles, no FMA contraction in the baseline ISA):
// - precompute_coeffs works in double. The box is float[4] in C, so box edges are rounded to
//   float32 and `in1 - in0` is a float32 subtraction before the cast to double.
// - For a downscale the filter support is stretched by the scale factor (antialiasing); each
//   output sample's window is [trunc(center - support + 0.5), trunc(center + support + 0.5)) clipped
//   to the image, and its weights are normalised to sum to 1.
// - Weights become 22-bit fixed point (PRECISION_BITS = 32 - 8 - 2), rounded half away from zero
//   by truncating k * 2^22 ± 0.5. A pass sums u8 * weight in int32 from 2^21 (so >> 22 rounds)
//   and clips to 0..255. The horizontal pass runs first, over only the rows the vertical pass
//   reads, and its 8-bit result feeds the vertical pass. A pass is skipped when its axis keeps
//   its size and the box spans it exactly (ImagingResampleInner need_horizontal / need_vertical).
// - BICUBIC uses a = -0.5. LANCZOS and HAMMING call sin/cos, where V8 and glibc may differ in the
//   last bit; that could only matter if a weight landed exactly on a rounding boundary of the
//   fixed-point conversion. BOX, BILINEAR and BICUBIC are pure arithmetic and exact.

import { InputError } from '../errors.js';

/** Pillow's Image.Resampling numbering (also the `resample` integer of HF preprocessor configs). */
export const Resampling = {
  NEAREST: 0,
  LANCZOS: 1,
  BILINEAR: 2,
  BICUBIC: 3,
  BOX: 4,
  HAMMING: 5,
} as const;
export type ResamplingFilter = (typeof Resampling)[keyof typeof Resampling];

/** Interleaved 8-bit pixels: (height, width, channels), any channel count. */
export interface U8Image {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

/** Source region (left, upper, right, lower) in pixels, as Image.resize's `box`. */
export type Box = readonly [number, number, number, number];

interface Filter {
  readonly fn: (x: number) => number;
  readonly support: number;
}

const fround = Math.fround;

function boxFilter(x: number): number {
  return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}

function bilinearFilter(x: number): number {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

// `0.54f + 0.46f * cos(x)`: float constants widened to double.
const HAMMING_A = fround(0.54);
const HAMMING_B = fround(0.46);
function hammingFilter(x: number): number {
  if (x < 0.0) x = -x;
  if (x === 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * Math.PI;
  return (Math.sin(x) / x) * (HAMMING_A + HAMMING_B * Math.cos(x));
}

function bicubicFilter(x: number): number {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

function sincFilter(x: number): number {
  if (x === 0.0) return 1.0;
  x = x * Math.PI;
  return Math.sin(x) / x;
}

function lanczosFilter(x: number): number {
  return -3.0 <= x && x < 3.0 ? sincFilter(x) * sincFilter(x / 3) : 0.0;
}

const FILTERS: Readonly<Record<number, Filter>> = {
  [Resampling.BOX]: { fn: boxFilter, support: 0.5 },
  [Resampling.BILINEAR]: { fn: bilinearFilter, support: 1.0 },
  [Resampling.HAMMING]: { fn: hammingFilter, support: 1.0 },
  [Resampling.BICUBIC]: { fn: bicubicFilter, support: 2.0 },
  [Resampling.LANCZOS]: { fn: lanczosFilter, support: 3.0 },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Per output sample: first input index, tap count, and `ksize` fixed-point weights. */
interface Coeffs {
  readonly ksize: number;
  readonly bounds: Int32Array; // (outSize, 2): xmin, count
  readonly kk: Int32Array; // (outSize, ksize)
}

/** Resample.c precompute_coeffs + normalize_coeffs_8bpc. in0/in1 are already float32 values. */
function precomputeCoeffs(inSize: number, in0: number, in1: number, outSize: number, filter: Filter): Coeffs {
  const scale = fround(in1 - in0) / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      if (ww !== 0.0) k[x] = k[x]! / ww;
    }
    // Taps past xmax stay 0, as in C (they are never read).
    for (let x = 0; x < xmax; x++) {
      const v = k[x]!;
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

/** clip8: the accumulator's integer part (arithmetic shift), clipped to 0..255. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** ImagingResampleHorizontal_8bpc over input rows [offset, offset + outH). */
function resampleHorizontal(src: U8Image, outW: number, outH: number, offset: number, c: Coeffs): U8Image {
  const ch = src.channels;
  const inRow = src.width * ch;
  const out = new Uint8Array(outW * outH * ch);
  const { ksize, bounds, kk } = c;
  const sd = src.data;
  for (let yy = 0; yy < outH; yy++) {
    const rowBase = (yy + offset) * inRow;
    let o = yy * outW * ch;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = bounds[xx * 2]!;
      const xmax = bounds[xx * 2 + 1]!;
      const kb = xx * ksize;
      let p = rowBase + xmin * ch;
      if (ch === 3) {
        // The common case, unrolled over bands: the same sums, in the same integer arithmetic.
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0; x < xmax; x++, p += 3) {
          const k = kk[kb + x]!;
          s0 += sd[p]! * k;
          s1 += sd[p + 1]! * k;
          s2 += sd[p + 2]! * k;
        }
        out[o++] = clip8(s0);
        out[o++] = clip8(s1);
        out[o++] = clip8(s2);
      } else {
        for (let b = 0; b < ch; b++) {
          let ss = HALF;
          for (let x = 0, q = p + b; x < xmax; x++, q += ch) ss += sd[q]! * kk[kb + x]!;
          out[o++] = clip8(ss);
        }
      }
    }
  }
  return { width: outW, height: outH, channels: ch, data: out };
}

/**
 * ImagingResampleVertical_8bpc: bounds are relative to the first row of `src`. Whole rows are
 * accumulated tap by tap (cache-friendly); the sums are exact integers below 2^31 in magnitude,
 * so the order of additions does not change them.
 */
function resampleVertical(src: U8Image, outH: number, c: Coeffs): U8Image {
  const row = src.width * src.channels;
  const out = new Uint8Array(row * outH);
  const acc = new Int32Array(row);
  const { ksize, bounds, kk } = c;
  const sd = src.data;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2]!;
    const ymax = bounds[yy * 2 + 1]!;
    const kb = yy * ksize;
    acc.fill(HALF);
    for (let y = 0; y < ymax; y++) {
      const k = kk[kb + y]!;
      const p = (ymin + y) * row;
      for (let i = 0; i < row; i++) acc[i] = acc[i]! + sd[p + i]! * k;
    }
    const o = yy * row;
    for (let i = 0; i < row; i++) out[o + i] = clip8(acc[i]!);
  }
  return { width: src.width, height: outH, channels: src.channels, data: out };
}

/** ImagingResampleInner: horizontal pass (on the needed rows only), then vertical pass. */
function resampleInner(src: U8Image, outW: number, outH: number, filter: Filter, box: Box): U8Image {
  const needHorizontal = outW !== src.width || box[0] !== 0 || box[2] !== outW;
  const needVertical = outH !== src.height || box[1] !== 0 || box[3] !== outH;
  const horiz = precomputeCoeffs(src.width, box[0], box[2], outW, filter);
  const vert = precomputeCoeffs(src.height, box[1], box[3], outH, filter);
  const yFirst = vert.bounds[0]!;
  const yLast = vert.bounds[outH * 2 - 2]! + vert.bounds[outH * 2 - 1]!;
  let img = src;
  if (needHorizontal) {
    for (let i = 0; i < outH; i++) vert.bounds[i * 2] = vert.bounds[i * 2]! - yFirst;
    img = resampleHorizontal(src, outW, yLast - yFirst, yFirst, horiz);
  }
  if (needVertical) img = resampleVertical(img, outH, vert);
  return img === src ? copy(src) : img;
}

/** Geometry.c ImagingScaleAffine (nearest neighbour, 'fill' on): positions accumulate in double. */
function scaleNearest(src: U8Image, outW: number, outH: number, box: Box): U8Image {
  const ch = src.channels;
  const a0 = fround(box[2] - box[0]) / outW;
  const a4 = fround(box[3] - box[1]) / outH;
  const xin = new Int32Array(outW);
  let xmin = outW;
  let xmax = 0;
  let xo = box[0] + a0 * 0.5;
  for (let x = 0; x < outW; x++) {
    const xi = xo < 0.0 ? -1 : Math.trunc(xo);
    if (xi >= 0 && xi < src.width) {
      xmax = x + 1;
      if (x < xmin) xmin = x;
      xin[x] = xi;
    }
    xo += a0;
  }
  const out = new Uint8Array(outW * outH * ch); // zero: the 'fill' of rows and columns outside
  let yo = box[1] + a4 * 0.5;
  for (let y = 0; y < outH; y++) {
    const yi = yo < 0.0 ? -1 : Math.trunc(yo);
    if (yi >= 0 && yi < src.height) {
      const inRow = yi * src.width;
      for (let x = xmin; x < xmax; x++) {
        const s = (inRow + xin[x]!) * ch;
        const d = (y * outW + x) * ch;
        for (let b = 0; b < ch; b++) out[d + b] = src.data[s + b]!;
      }
    }
    yo += a4;
  }
  return { width: outW, height: outH, channels: ch, data: out };
}

function copy(src: U8Image): U8Image {
  return { width: src.width, height: src.height, channels: src.channels, data: src.data.slice() };
}

function crop(src: U8Image, left: number, top: number, w: number, h: number): U8Image {
  const ch = src.channels;
  const out = new Uint8Array(w * h * ch);
  for (let y = 0; y < h; y++) {
    const s = ((top + y) * src.width + left) * ch;
    out.set(src.data.subarray(s, s + w * ch), y * w * ch);
  }
  return { width: w, height: h, channels: ch, data: out };
}

/**
 * `image.resize((width, height), filter, box)` of Pillow 9.4 for an 8-bit image without alpha
 * premultiplication (modes L, RGB; Pillow premultiplies LA and RGBA, which this does not do).
 * `reducing_gap` is not supported (upstream and HF pass None). Returns a new image.
 */
export function resize(
  src: U8Image,
  width: number,
  height: number,
  filter: ResamplingFilter = Resampling.BICUBIC,
  box?: Box,
): U8Image {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InputError(`resize: height and width must be positive integers, got ${width}x${height}`);
  }
  const b: Box = box ?? [0, 0, src.width, src.height];
  // Image.resize: same size and whole-image box -> copy.
  if (width === src.width && height === src.height && b[0] === 0 && b[1] === 0 && b[2] === src.width && b[3] === src.height) {
    return copy(src);
  }
  // _resize parses the box as float[4].
  const fb: Box = [fround(b[0]), fround(b[1]), fround(b[2]), fround(b[3])];
  if (fb[0] < 0 || fb[1] < 0) throw new InputError(`resize: box offset can't be negative: [${b.join(', ')}]`);
  if (fb[2] > src.width || fb[3] > src.height) {
    throw new InputError(`resize: box [${b.join(', ')}] exceeds the ${src.width}x${src.height} image`);
  }
  if (fb[2] - fb[0] < 0 || fb[3] - fb[1] < 0) throw new InputError(`resize: box can't be empty: [${b.join(', ')}]`);
  if (Number.isInteger(fb[0]) && fround(fb[2] - fb[0]) === width && Number.isInteger(fb[1]) && fround(fb[3] - fb[1]) === height) {
    return crop(src, fb[0], fb[1], width, height);
  }
  if (filter === Resampling.NEAREST) return scaleNearest(src, width, height, fb);
  const f = FILTERS[filter];
  if (f === undefined) throw new InputError(`resize: unknown resampling filter ${String(filter)}`);
  return resampleInner(src, width, height, f, fb);
}
