// PyTorch's F.interpolate on float32 maps, the two modes S2 uses (bfshi/scaling_on_scales
// s2wrapper/core.py: the image to each scale with mode='bicubic', the merged feature maps to
// the smallest scale's size with mode='area'). Both are checked against torch 1.13 CPU in
// test/media/interpolate.test.ts (goldens from tools/interp_goldens.py).
//
// bicubic, align_corners=False, no antialias (aten upsample_bicubic2d, UpSample.h):
//   scale = in / out (float32); src = scale * (o + 0.5) - 0.5; i0 = floor(src); t = src - i0
//   weights of inputs i0-1 .. i0+2: cubic convolution with A = -0.75 at t+1, t, 1-t, 2-t
//   inputs past the border are clamped to the edge; separable: rows first, then columns.
// Numerics: torch's CPU build keeps `src` unrounded (t rounds once from the exact value) and
// contracts some multiply-adds of the cubic polynomials into FMAs; emulating that (fma() below)
// reproduced 254 of 257 of its float32 weights bit for bit when probed (the other 3 by 1-2 ulp),
// where plain float32 evaluation is off by up to 9 ulp. The sums are fused multiply-adds too;
// outputs then match torch within a few ulp of the inputs' magnitude (most of them exactly).
//
// area = adaptive_avg_pool2d (aten AdaptiveAvgPoolKernel.cpp): output cell (oy, ox) is the mean
// of rows floor(oy·H/OH) .. ceil((oy+1)·H/OH) and likewise columns, summed in float32 in row-major
// order and divided by the row count then the column count: bit-exact with torch.

import { InputError } from '../errors.js';
import { f32, type F32Tensor } from '../tensor.js';

const fround = Math.fround;
/** fused multiply-add rounded to float32: a·b of two float32 values is exact in a double. */
const fma = (a: number, b: number, c: number): number => fround(a * b + c);

const A = -0.75;
/** cubic_convolution1(x) = ((A+2)x − (A+3))x² + 1, for |x| ≤ 1. */
const cubic1 = (x: number): number => fround(fround(fround(fma(A + 2, x, -(A + 3)) * x) * x) + 1);
/** cubic_convolution2(x) = ((Ax − 5A)x + 8A)x − 4A, for 1 < |x| < 2. */
const cubic2 = (x: number): number => fround(fround(fma(fma(A, x, -5 * A), x, 8 * A) * x) - 4 * A);

interface Taps {
  readonly index: Int32Array; // (out, 4) clamped input indices
  readonly weight: Float32Array; // (out, 4)
}

function bicubicTaps(inSize: number, outSize: number): Taps {
  const index = new Int32Array(outSize * 4);
  const weight = new Float32Array(outSize * 4);
  const scale = fround(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const src = scale * (o + 0.5) - 0.5; // exact in a double
    const i0 = Math.floor(src);
    const t = fround(src - i0);
    const x2 = fround(1 - t);
    weight.set([cubic2(fround(t + 1)), cubic1(t), cubic1(x2), cubic2(fround(x2 + 1))], o * 4);
    for (let j = 0; j < 4; j++) index[o * 4 + j] = Math.min(Math.max(i0 - 1 + j, 0), inSize - 1);
  }
  return { index, weight };
}

/** F.interpolate(x, (outH, outW), mode='bicubic', align_corners=False): x (c, h, w) → (c, outH, outW). */
export function bicubicResize(x: F32Tensor, outH: number, outW: number): F32Tensor {
  const [c, h, w] = chw(x, 'bicubicResize');
  checkSize(outH, outW, 'bicubicResize');
  // Same size: every weight set is (0, 1, 0, 0) exactly, so torch's result is the input itself.
  if (outH === h && outW === w) return f32(x.data.slice(), [c, h, w]);
  const ty = bicubicTaps(h, outH);
  const tx = bicubicTaps(w, outW);
  const out = new Float32Array(c * outH * outW);
  const src = x.data;
  for (let ch = 0; ch < c; ch++) {
    const plane = ch * h * w;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let acc = 0;
        for (let i = 0; i < 4; i++) {
          const row = plane + ty.index[oy * 4 + i]! * w;
          let r = fround(src[row + tx.index[ox * 4]!]! * tx.weight[ox * 4]!);
          for (let j = 1; j < 4; j++) r = fma(src[row + tx.index[ox * 4 + j]!]!, tx.weight[ox * 4 + j]!, r);
          acc = i === 0 ? fround(r * ty.weight[oy * 4]!) : fma(r, ty.weight[oy * 4 + i]!, acc);
        }
        out[(ch * outH + oy) * outW + ox] = acc;
      }
    }
  }
  return f32(out, [c, outH, outW]);
}

/**
 * F.interpolate(x, (outH, outW), mode='area') on a channels-last map: x (h, w, c) → (outH, outW, c).
 * (S2's feature maps are channels-last in torch too: a permuted view of (tokens, channels).)
 */
export function areaResize(x: F32Tensor, outH: number, outW: number): F32Tensor {
  const [h, w, c] = chw(x, 'areaResize');
  checkSize(outH, outW, 'areaResize');
  const out = new Float32Array(outH * outW * c);
  const sum = new Float32Array(c);
  const src = x.data;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = Math.floor((oy * h) / outH);
    const y1 = Math.ceil(((oy + 1) * h) / outH);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = Math.floor((ox * w) / outW);
      const x1 = Math.ceil(((ox + 1) * w) / outW);
      sum.fill(0);
      for (let y = y0; y < y1; y++) {
        for (let xx = x0; xx < x1; xx++) {
          const at = (y * w + xx) * c;
          for (let k = 0; k < c; k++) sum[k] = sum[k]! + src[at + k]!; // Float32Array store rounds
        }
      }
      const o = (oy * outW + ox) * c;
      const kh = y1 - y0;
      const kw = x1 - x0;
      for (let k = 0; k < c; k++) out[o + k] = fround(sum[k]! / kh) / kw;
    }
  }
  return f32(out, [outH, outW, c]);
}

function chw(x: F32Tensor, op: string): [number, number, number] {
  if (x.shape.length !== 3) throw new InputError(`${op}: expected a 3-D tensor, got shape [${x.shape.join(', ')}]`);
  return x.shape as [number, number, number];
}

function checkSize(h: number, w: number, op: string): void {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) throw new InputError(`${op}: output size ${h}x${w} must be positive integers`);
}
