// Random weight tensors of real sizes, fast: a VILA1.5-3B twin holds 2.5 G int4 weights and
// 0.6 G fp16 ones, and the general-purpose builders (quant/q4.ts randomQ4, which draws and packs
// one nibble at a time; f32ToF16 per element) take minutes for that. Here:
//  - int4: randomQ4 draws uniform nibbles and packs them (a bijection on the bits), so the packed
//    qweight words are uniform 16-bit values: we draw the words directly. Scales and scaled zeros
//    follow randomQ4 exactly (f16 s uniform in [0.002, 0.02], sz = −(s·z), z uniform in 0..15,
//    zero padding rows), so the result has randomQ4's distribution and layout.
//  - fp16: uniform values drawn with xorshift32 and converted by truncating the f32 bits (values
//    under 2⁻¹⁴ become 0: weights are not denormal, which keeps every kernel on its fast path).

import { paddedGroups, checkQ4Dims, type Q4Tensor } from '../quant/q4.js';
import { f32ToF16, type Tensor } from '../tensor.js';

/** A xorshift32 stream; seed 0 is replaced (xorshift never leaves 0). */
export function xorshift(seed: number): () => number {
  let s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

const CHUNK = 1 << 16;

/** fp16 tensor, values uniform with standard deviation `std` around `mean`. */
export function randomF16(shape: readonly number[], std: number, mean: number, seed: number): Tensor<'f16'> {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Uint16Array(n);
  const f = new Float32Array(CHUNK);
  const u = new Uint32Array(f.buffer);
  const half = std * Math.sqrt(3);
  const scale = (2 * half) / 4294967296;
  let s = (Math.imul(seed ^ 0x6a09e667, 0x85ebca6b) >>> 0) || 1;
  for (let base = 0; base < n; base += CHUNK) {
    const m = Math.min(CHUNK, n - base);
    for (let i = 0; i < m; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      f[i] = mean - half + (s >>> 0) * scale;
    }
    for (let i = 0; i < m; i++) {
      const b = u[i]!;
      const e = (b >>> 23) & 0xff;
      const sign = (b >>> 16) & 0x8000;
      out[base + i] = e < 113 ? sign : e > 142 ? sign | 0x7bff : sign | ((e - 112) << 10) | ((b >>> 13) & 0x3ff);
    }
  }
  return { dtype: 'f16', shape: [...shape], data: out };
}

/** An int4 weight (n outputs, k inputs) with randomQ4's distribution (see the header). */
export function randomQ4Fast(n: number, k: number, groupSize: number, seed: number): Q4Tensor {
  checkQ4Dims(n, k, groupSize, 'randomQ4Fast');
  const next = xorshift(seed);
  const qweight = new Uint16Array((n / 4) * k);
  const words = new Uint32Array(qweight.buffer, 0, qweight.length >>> 1);
  for (let i = 0; i < words.length; i++) words[i] = next();
  if (qweight.length % 2 === 1) qweight[qweight.length - 1] = next() & 0xffff;
  const gp = paddedGroups(k, groupSize);
  const scales = new Uint16Array(gp * n);
  const zeros = new Uint16Array(gp * n);
  for (let j = 0; j < (k / groupSize) * n; j++) {
    // f16 of a value in [0.002, 0.02] (f32ToF16 rounds once, as randomQ4's roundF16 does).
    const sBits = f32ToF16(0.002 + (0.018 * next()) / 4294967296);
    scales[j] = sBits;
    zeros[j] = f32ToF16(-Math.fround(f16Value(sBits) * (next() & 15)));
  }
  return {
    dtype: 'q4',
    shape: [n, k],
    groupSize,
    qweight,
    scales: { dtype: 'f16', shape: [gp, n], data: scales },
    scaledZeros: { dtype: 'f16', shape: [gp, n], data: zeros },
  };
}

/** A normal f16's value (the scales above are normal: ≥ 0.002 > 2⁻¹⁴). */
function f16Value(h: number): number {
  return (1 + (h & 0x3ff) / 1024) * 2 ** (((h >> 10) & 0x1f) - 15);
}
