// Reference int4 matmul: out (m,n) = x (m,k) · dequant(w) (n,k)ᵀ + bias (n), w in the TinyChat v2
// layout (spec/awq.md §2). Each weight row is dequantized once, bit-exactly as §2.4 (q·s + sz
// rounded once to the scale dtype), and dotted with every activation row in float64, exactly as
// ref/matmul.ts does for float weights: on the dequantized weights the two agree bit for bit.
//
// matmul_q4_q8act is not an op: it is the exact oracle for a fast kernel that quantizes the
// activations to int8 per block (as llama.cpp's q8 dot products do) and works on integer dot
// products; see its comment for the definition a SIMD kernel must reproduce.

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { dequantizeQ4Row, q4At, roundHalfEven, validateQ4, type Q4Tensor } from '../quant/q4.js';
import { floatReader, type F32Tensor, type Tensor } from '../tensor.js';
import { dims2, expectLength, expectShape } from './check.js';

/** Shapes of a q4 matmul; returns (m, n, k). */
function checkArgs(op: string, out: F32Tensor, x: F32Tensor, w: Q4Tensor, bias: Tensor | undefined): [number, number, number] {
  validateQ4(w, `${op}: w`, InputError);
  const [m, k] = dims2(op, 'x', x);
  const [n, kw] = w.shape;
  if (kw !== k) throw new InputError(`${op}: w has k = ${kw} but x has ${k} columns`);
  expectShape(op, 'out', out, [m, n]);
  if (bias !== undefined) expectLength(op, 'bias', bias, n);
  return [m, n, k];
}

export function matmul_q4({ out, x, w, bias }: OpArgs['matmul_q4']): void {
  const [m, n, k] = checkArgs('matmul_q4', out, x, w, bias);
  const b = bias === undefined ? undefined : floatReader(bias);
  const xs = x.data;
  const o = out.data;
  const row = new Float32Array(k);
  for (let j = 0; j < n; j++) {
    dequantizeQ4Row(w, j, row);
    const b0 = b === undefined ? 0 : b(j);
    for (let i = 0; i < m; i++) {
      const xo = i * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += xs[xo + p]! * row[p]!;
      o[i * n + j] = s + b0;
    }
  }
}

/** One activation row quantized to integers in −levels..levels per block of `block` columns. */
export interface Q8Row {
  /** (k) integers in −levels..levels (Int8Array for 127, Int16Array for 32767). */
  readonly xq: Int8Array | Int16Array;
  /** (k/block) the block scales d (x ≈ xq·d). */
  readonly d: Float32Array;
  /** (k/block) Σ xq over each block (an exact integer; d·Σxq multiplies sz). */
  readonly sums: Int32Array;
}

/**
 * Symmetric int8 quantization of one activation row per block of `block` columns, all in f32:
 * amax = max |x|; d = fround(amax/127); id = d == 0 ? 0 : fround(1/d);
 * xq = roundHalfEven(fround(x·id)). |x·id| ≤ amax·id ≤ 127·(1 + 2⁻²³), so xq never leaves
 * −127..127 and needs no clamp.
 */
export function quantizeActivationsQ8(x: Float32Array, block: number, levels: 127 | 32767 = 127): Q8Row {
  const k = x.length;
  if (!Number.isInteger(block) || block <= 0 || k % block !== 0) {
    throw new InputError(`quantizeActivationsQ8: block ${block} does not divide the row length ${k}`);
  }
  const nb = k / block;
  const xq = levels === 127 ? new Int8Array(k) : new Int16Array(k);
  const d = new Float32Array(nb);
  const sums = new Int32Array(nb);
  for (let b = 0; b < nb; b++) {
    const lo = b * block;
    let amax = 0;
    for (let p = lo; p < lo + block; p++) amax = Math.max(amax, Math.abs(x[p]!));
    const db = Math.fround(amax / levels);
    const id = db === 0 ? 0 : Math.fround(1 / db);
    let sum = 0;
    for (let p = lo; p < lo + block; p++) {
      xq[p] = roundHalfEven(Math.fround(x[p]! * id));
      sum += xq[p]!;
    }
    d[b] = db;
    sums[b] = sum;
  }
  return { xq, d, sums };
}

/** The activation block of matmul_q4_q8act: min(groupSize, 128), which must divide the group. */
export function q8ActBlock(groupSize: number): number {
  const qb = Math.min(groupSize, 128);
  if (groupSize % 64 !== 0 || groupSize % qb !== 0) {
    throw new InputError(`matmul_q4_q8act: group size ${groupSize} must be 64 or a multiple of 128`);
  }
  return qb;
}

/**
 * The oracle of an int8-activation kernel. With QB = min(groupSize, 128) and each x row
 * quantized by quantizeActivationsQ8(row, QB):
 *   out[i][o] = fround( Σ_b d_b·( s·Σ_{p∈b} q[o][p]·xq[p]  +  sz·Σ_{p∈b} xq[p] ) + bias[o] )
 * i.e. the weight q·s + sz against the quantized row xq·d on both terms (llama.cpp's q8_1
 * style): taking the exact Σx for the zero-point term instead weights each block's rounding
 * error by q rather than by q − z, and measured 1–3.5% relative L2 against 0.6–0.8% this way.
 * with s = scales[g][o], sz = scaled_zeros[g][o] read exactly as f32 numbers (g the group that
 * holds block b), blocks summed in order from an accumulator of 0, float64 throughout,
 * evaluated exactly in the order written. The integer dot product is exact (|Σ| ≤ 127·15·128).
 * Note the weight is q·s + sz unrounded here: the §2.4 fp16 rounding is what matmul_q4 adds.
 * QB must divide the group size, so groupSize is 64 or a multiple of 128 (else InputError).
 * `levels` 32767 quantizes to int16 instead (the SIMD128 kernel's i16 dot products; error
 * ~1e-5), 127 to int8 (the relaxed-SIMD kernel's i8 dot products).
 */
export function matmul_q4_q8act({ out, x, w, bias }: OpArgs['matmul_q4'], levels: 127 | 32767 = 127): void {
  const [m, n, k] = checkArgs('matmul_q4_q8act', out, x, w, bias);
  const qb = q8ActBlock(w.groupSize);
  const nb = k / qb;
  const perGroup = w.groupSize / qb;
  const s = floatReader(w.scales);
  const sz = floatReader(w.scaledZeros);
  const b = bias === undefined ? undefined : floatReader(bias);
  const rowsQ8 = Array.from({ length: m }, (_, i) => quantizeActivationsQ8(x.data.subarray(i * k, (i + 1) * k), qb, levels));
  const q = new Uint8Array(k);
  for (let o = 0; o < n; o++) {
    for (let p = 0; p < k; p++) q[p] = q4At(w, o, p);
    const b0 = b === undefined ? 0 : b(o);
    for (let i = 0; i < m; i++) {
      const { xq, d, sums } = rowsQ8[i]!;
      let acc = 0;
      for (let blk = 0; blk < nb; blk++) {
        const g = Math.floor(blk / perGroup);
        let dot = 0;
        for (let p = blk * qb; p < (blk + 1) * qb; p++) dot += q[p]! * xq[p]!;
        acc += d[blk]! * (s(g * n + o) * dot + sz(g * n + o) * sums[blk]!);
      }
      out.data[i * n + o] = acc + b0;
    }
  }
}
