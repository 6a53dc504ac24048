// int4 weights in the TinyChat v2 layout (llm-awq WQLinear v2, spec/awq.md §2), the internal
// layout every backend reads. A Q4Tensor is an nn.Linear weight (n outputs, k inputs) held as
// packed nibbles q plus per-(group, output) scale s and scaled zero sz = −(s·z); the weight is
// W[o][i] = q·s + sz rounded once to the scale dtype (§2.4). Other AWQ layouts are converted
// into this one at load time.

import { InputError, WeightError } from '../errors.js';
import { f32ToBf16, f32ToF16, floatReader, shapeString, type Tensor } from '../tensor.js';

export type Q4ScaleDType = 'f16' | 'bf16' | 'f32';

export interface Q4Tensor {
  readonly dtype: 'q4';
  /** (n, k) like an nn.Linear weight: n outputs, k inputs. */
  readonly shape: readonly [number, number];
  /** Groups run along k (§1.1); the group size belongs to the weight, never to a global. */
  readonly groupSize: number;
  /** (n/4, k) TinyChat v2 packing, §2.2/§2.3. */
  readonly qweight: Uint16Array;
  /** (gp, n), gp = 8·ceil(k/groupSize/8); rows ≥ k/groupSize are padding (§2.1). */
  readonly scales: Tensor<Q4ScaleDType>;
  /** (gp, n), = −(s·z). */
  readonly scaledZeros: Tensor<Q4ScaleDType>;
}

export function isQ4(t: Tensor | Q4Tensor): t is Q4Tensor {
  return t.dtype === 'q4';
}

/**
 * Rows of the scale tables, llm-awq's calculate_zeros_width(k, G)·8 (qmodule.py; spec §2.1):
 * w = ceil(ceil(groups/8) / m)·m with m = 1 for G ≥ 128, 2 for G = 64, 4 for G = 32, so G = 128
 * pads to a multiple of 8 rows, G = 64 to 16 and G = 32 to 32. (llm-awq refuses other G < 128;
 * here m = 128/G where that is whole, else 1.) Never infer G from the row count.
 */
export function paddedGroups(k: number, groupSize: number): number {
  const m = groupSize >= 128 || 128 % groupSize !== 0 ? 1 : 128 / groupSize;
  return 8 * m * Math.ceil(Math.ceil(k / groupSize / 8) / m);
}

type ErrorClass = typeof InputError | typeof WeightError;

/** §2.1 requirements on the sizes: n % 4 (interleave), k % 64 (kstride), k % groupSize. */
export function checkQ4Dims(n: number, k: number, groupSize: number, where: string, Err: ErrorClass = InputError): void {
  if (!Number.isInteger(n) || n <= 0 || n % 4 !== 0) throw new Err(`int4 weight needs n (outputs) a positive multiple of 4, got ${n}`, where);
  if (!Number.isInteger(k) || k <= 0 || k % 64 !== 0) throw new Err(`int4 weight needs k (inputs) a positive multiple of 64, got ${k}`, where);
  if (!Number.isInteger(groupSize) || groupSize <= 0 || k % groupSize !== 0) {
    throw new Err(`int4 group size ${groupSize} does not divide k = ${k}`, where);
  }
}

/** Every buffer of `w` agrees with its shape and group size; `where` names the tensor. */
export function validateQ4(w: Q4Tensor, where: string, Err: ErrorClass = WeightError): void {
  const [n, k] = w.shape;
  checkQ4Dims(n, k, w.groupSize, where, Err);
  if (w.qweight.length !== (n / 4) * k) throw new Err(`qweight has ${w.qweight.length} elements, expected ${n / 4}·${k}`, where);
  const gp = paddedGroups(k, w.groupSize);
  for (const [name, t] of [['scales', w.scales], ['scaled_zeros', w.scaledZeros]] as const) {
    if (t.shape.length !== 2 || t.shape[0] !== gp || t.shape[1] !== n || t.data.length !== gp * n) {
      throw new Err(`${name} has shape ${shapeString(t.shape)}, expected [${gp}, ${n}] for k = ${k}, group size ${w.groupSize}`, where);
    }
    if (t.dtype !== 'f16' && t.dtype !== 'bf16' && t.dtype !== 'f32') throw new Err(`${name} has dtype ${t.dtype}, expected f16, bf16 or f32`, where);
  }
  if (w.scales.dtype !== w.scaledZeros.dtype) throw new Err(`scales are ${w.scales.dtype} but scaled_zeros are ${w.scaledZeros.dtype}`, where);
}

// --- layout (§2.2, §2.3) -----------------------------------------------------------------------

/** Index in qweight (as uint16) of the word holding q[o][i]; its nibble is (i>>3)&3 (§2.3). */
export function q4Index(k: number, o: number, i: number): number {
  return (o >> 2) * k + (i & ~63) + ((o & 3) << 4) + (((i >> 5) & 1) << 3) + (i & 7);
}

/** q[o][i] in 0..15, by the closed form of §2.3. */
export function q4At(w: Q4Tensor, o: number, i: number): number {
  return (w.qweight[q4Index(w.shape[1], o, i)]! >> (4 * ((i >> 3) & 3))) & 0xf;
}

/**
 * pack_intweight(q, interleave=4, kstride=64) of §2.2, written from the closed form: each
 * (row block o>>2, 64-wide K tile) is 64 uint16 words; row o&3 owns words 16·(o&3)…+15, the
 * first 8 for K offsets 0..31 and the next 8 for 32..63; in word j, nibble u is K offset 8u + j.
 * q: n·k values 0..15, row-major [o][i].
 */
export function packTinyChatV2(q: Uint8Array, n: number, k: number): Uint16Array {
  checkQ4Dims(n, k, 64, 'packTinyChatV2');
  if (q.length !== n * k) throw new InputError(`packTinyChatV2: q has ${q.length} values, expected ${n}·${k}`);
  const out = new Uint16Array((n / 4) * k);
  for (let o = 0; o < n; o++) {
    for (let i = 0; i < k; i++) {
      const v = q[o * k + i]!;
      if (v > 15) throw new InputError(`packTinyChatV2: q[${o}][${i}] = ${v} is not a 4-bit value`);
      out[q4Index(k, o, i)]! |= v << (4 * ((i >> 3) & 3));
    }
  }
  return out;
}

// --- rounding ----------------------------------------------------------------------------------

/** Round to the nearest integer, ties to even (torch.round). */
export function roundHalfEven(y: number): number {
  const f = Math.floor(y);
  const d = y - f; // exact: the fraction of a double is representable
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Round a float64 once to a binary float with `mant` fraction bits, smallest normal exponent
 * `eMin` and largest finite `max`, ties to even; overflow gives ±Infinity. Going through f32
 * first (tensor.ts f32ToF16) would round twice, so this works on the f64 directly.
 */
function roundToFloat(x: number, mant: number, eMin: number, max: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, eMin) - mant); // below the normal range the quantum is fixed
  const r = roundHalfEven(a / ulp) * ulp; // a/ulp is exact: ulp is a power of two
  const v = r > max ? Infinity : r;
  return x < 0 ? -v : v;
}

/** x (any double) rounded once to the nearest f16 value, ties to even. */
export const roundF16 = (x: number): number => roundToFloat(x, 10, -14, 65504);
/** x (any double) rounded once to the nearest bf16 value, ties to even. */
export const roundBf16 = (x: number): number => roundToFloat(x, 7, -126, (2 - 2 ** -7) * 2 ** 127);

/** The single rounding of the dequantizing FMA, in the dtype the scales are stored in (§2.4). */
export function roundTo(dtype: Q4ScaleDType): (x: number) => number {
  return dtype === 'f16' ? roundF16 : dtype === 'bf16' ? roundBf16 : Math.fround;
}

// --- dequantization (§2.4) ---------------------------------------------------------------------

/**
 * Row o of the weight into dst (k): W[o][i] = round(q·s + sz) with g = ⌊i/groupSize⌋.
 * s and sz are converted exactly to f64 and q·s + sz is then exact in f64: for any f16 table
 * (every f16 is a multiple of 2^-24 below 2^16, so the sum has at most 45 significant bits), and
 * for bf16 or f32 tables whenever |sz| and q·s lie within about 2^20 of each other, which
 * sz = −s·z with z ≤ 15 always does. It is then rounded once, to nearest even, to the dtype of
 * the scales: f16 (the kernels' __hfma2), bf16 (the bf16 hfma2), f32 (an f32 fma). Bit-exact
 * per §2.4, which writes g = i/128 for the G = 128 checkpoints.
 */
export function dequantizeQ4Row(w: Q4Tensor, o: number, dst: Float32Array): void {
  const [n, k] = w.shape;
  const G = w.groupSize;
  const s = floatReader(w.scales);
  const sz = floatReader(w.scaledZeros);
  const round = roundTo(w.scales.dtype);
  if (dst.length < k) throw new InputError(`dequantizeQ4Row: dst has ${dst.length} elements, k = ${k}`);
  for (let g = 0; g * G < k; g++) {
    const sg = s(g * n + o);
    const zg = sz(g * n + o);
    for (let i = g * G; i < (g + 1) * G; i++) dst[i] = round(q4At(w, o, i) * sg + zg);
  }
}

/** The whole weight dequantized (n, k) as f32 (tests and the loose check of §architecture). */
export function dequantizeQ4(w: Q4Tensor): Tensor<'f32'> & { data: Float32Array } {
  const [n, k] = w.shape;
  const data = new Float32Array(n * k);
  for (let o = 0; o < n; o++) dequantizeQ4Row(w, o, data.subarray(o * k, (o + 1) * k));
  return { dtype: 'f32', shape: [n, k], data };
}

// --- building int4 weights ---------------------------------------------------------------------

/** A float scale table (gp, n) in `dtype` from f32 values (one rounding, nearest even). */
function scaleTable(values: Float32Array, gp: number, n: number, dtype: Q4ScaleDType): Tensor<Q4ScaleDType> {
  if (dtype === 'f32') return { dtype, shape: [gp, n], data: values };
  const enc = dtype === 'f16' ? f32ToF16 : f32ToBf16;
  return { dtype, shape: [gp, n], data: Uint16Array.from(values, enc) };
}

/**
 * One group of quantizeRtn: values read(base … base+G−1) → nibbles q[base …], and the group's
 * scale s (already rounded to the scale dtype) and zero point z.
 */
function quantizeGroup(read: (i: number) => number, base: number, G: number, round: (x: number) => number, q: Uint8Array): { s: number; z: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < G; i++) {
    const v = read(base + i);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const s = round(Math.fround(Math.max(Math.fround(hi - lo), EPS) / 15));
  const z = Math.min(15, Math.max(0, -roundHalfEven(Math.fround(lo / s))));
  for (let i = 0; i < G; i++) q[base + i] = Math.min(15, Math.max(0, roundHalfEven(Math.fround(read(base + i) / s)) + z));
  return { s, z };
}

const EPS = Math.fround(1e-5);

/**
 * What quantizeRtn(w) would store, dequantized (§2.4), without packing: w (n, k) f32 → out
 * (n, k), equal bit for bit to dequantizeQ4(quantizeRtn(w, groupSize, scaleDtype)). The AWQ
 * search (spec §1.2–1.3) calls it for every candidate scale and clip.
 */
export function fakeQuantize(w: Float32Array, n: number, k: number, groupSize: number, scaleDtype: Q4ScaleDType, out: Float32Array = new Float32Array(n * k)): Float32Array {
  checkQ4Dims(n, k, groupSize, 'fakeQuantize');
  if (w.length !== n * k || out.length !== n * k) throw new InputError(`fakeQuantize: arrays of ${w.length} / ${out.length} elements for (${n}, ${k})`);
  const round = roundTo(scaleDtype);
  const read = (i: number): number => w[i]!;
  const q = new Uint8Array(n * k);
  for (let base = 0; base < n * k; base += groupSize) {
    const { s, z } = quantizeGroup(read, base, groupSize, round, q);
    const sz = round(-Math.fround(s * z));
    for (let i = base; i < base + groupSize; i++) out[i] = round(q[i]! * s + sz);
  }
  return out;
}

/**
 * Round-to-nearest zero-point quantization of w (n, k) as llm-awq's pseudo_quantize_tensor
 * (§1.1, no auto-scale or clip): per (row, group) s = clamp(max − min, 1e-5)/15,
 * z = clamp(−round(min/s), 0, 15), q = clamp(round(w/s) + z, 0, 15), rounding half to even.
 * Arithmetic is f32 (Math.fround after each step). s is rounded to `scaleDtype` first and that
 * stored value is the one z and q are computed with, as llm-awq does when it works in the model
 * dtype, so q is the best nibble for the scale the kernels will read. sz = −(s·z) in f32, then
 * cast (from_linear, §2.1).
 */
export function quantizeRtn(w: Tensor, groupSize: number, scaleDtype: Q4ScaleDType = 'f16'): Q4Tensor {
  if (w.shape.length !== 2) throw new InputError(`quantizeRtn: weight must be 2-D, got ${shapeString(w.shape)}`);
  const [n, k] = w.shape as [number, number];
  checkQ4Dims(n, k, groupSize, 'quantizeRtn');
  const read = floatReader(w);
  const round = roundTo(scaleDtype);
  const gp = paddedGroups(k, groupSize);
  const s32 = new Float32Array(gp * n);
  const sz32 = new Float32Array(gp * n);
  const q = new Uint8Array(n * k);
  for (let o = 0; o < n; o++) {
    for (let g = 0; g < k / groupSize; g++) {
      const { s, z } = quantizeGroup(read, o * k + g * groupSize, groupSize, round, q);
      s32[g * n + o] = s;
      sz32[g * n + o] = -Math.fround(s * z);
    }
  }
  return {
    dtype: 'q4',
    shape: [n, k],
    groupSize,
    qweight: packTinyChatV2(q, n, k),
    scales: scaleTable(s32, gp, n, scaleDtype),
    scaledZeros: scaleTable(sz32, gp, n, scaleDtype),
  };
}

/**
 * A random int4 weight for tests and benchmarks: uniform nibbles, f16 scales uniform in
 * [0.002, 0.02] (the magnitude of real Llama groups), sz = −(s·z) with z uniform in 0..15.
 * rng: uniform [0, 1), e.g. sampling.ts seededRandom(seed).
 */
export function randomQ4(rng: () => number, n: number, k: number, groupSize: number): Q4Tensor {
  checkQ4Dims(n, k, groupSize, 'randomQ4');
  const q = new Uint8Array(n * k);
  for (let i = 0; i < q.length; i++) q[i] = Math.floor(rng() * 16);
  const gp = paddedGroups(k, groupSize);
  const s32 = new Float32Array(gp * n);
  const sz32 = new Float32Array(gp * n);
  for (let j = 0; j < (k / groupSize) * n; j++) {
    const s = roundF16(0.002 + 0.018 * rng());
    s32[j] = s;
    sz32[j] = -Math.fround(s * Math.floor(rng() * 16));
  }
  return {
    dtype: 'q4',
    shape: [n, k],
    groupSize,
    qweight: packTinyChatV2(q, n, k),
    scales: scaleTable(s32, gp, n, 'f16'),
    scaledZeros: scaleTable(sz32, gp, n, 'f16'),
  };
}
