// AutoAWQ GEMM, llm-awq v1 GEMV and GEMVFast converted to the internal TinyChat v2 Q4Tensor.
// The fixtures are packed here, independently of the converter, by the formulas of
// spec/awq.md §0/§5 read literally; the reference weight is W = (q − z)·s.

import { describe, expect, it } from 'vitest';
import { WeightError } from '../../src/errors.js';
import type { TensorInfo } from '../../src/io/safetensors.js';
import type { WeightSource } from '../../src/io/weights.js';
import { WeightBinder } from '../../src/model/binder.js';
import { detectAwqLayout, fromAutoAwqGemm, fromAwqGemv, fromGemvFast, type AwqKeys } from '../../src/quant/awq_layouts.js';
import { dequantizeQ4Row, isQ4, packTinyChatV2, paddedGroups, roundF16, validateQ4, type Q4Tensor } from '../../src/quant/q4.js';
import { seededRandom } from '../../src/sampling.js';
import { DTYPE_BYTES, f32ToF16, type DType, type Tensor } from '../../src/tensor.js';

const AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7];

interface Truth {
  n: number;
  k: number;
  G: number;
  q: Uint8Array; // [o][i]
  z: Uint8Array; // [g][o]
  s: Float64Array; // [g][o], f16 values
}

/** Random q, z; s either random f16 in [0.002, 0.02] or, if `exact`, m·2^-10 (m ≤ 63) so that s·z is exact in f16. */
function truth(n: number, k: number, G: number, seed: number, exact = false): Truth {
  const rng = seededRandom(seed);
  const groups = k / G;
  const q = Uint8Array.from({ length: n * k }, () => Math.floor(rng() * 16));
  const z = Uint8Array.from({ length: groups * n }, () => Math.floor(rng() * 16));
  const s = Float64Array.from({ length: groups * n }, () => (exact ? (1 + Math.floor(rng() * 63)) * 2 ** -10 : roundF16(0.002 + 0.018 * rng())));
  return { n, k, G, q, z, s };
}

const f16Tensor = (vals: Float64Array, shape: number[]): Tensor<'f16'> => ({ dtype: 'f16', shape, data: Uint16Array.from(vals, (v) => f32ToF16(v)) });

/** §5 GEMM: qweight[i][c] nibble j = q[8c + AWQ_ORDER[j]][i]; qzeros[g][c] nibble j = z[g][8c + AWQ_ORDER[j]]; scales[g][o]. */
function packGemm(t: Truth): { qweight: Int32Array; qzeros: Int32Array; scales: Tensor<'f16'> } {
  const { n, k, G, q, z, s } = t;
  const groups = k / G;
  const qweight = new Int32Array(k * (n / 8));
  for (let i = 0; i < k; i++) {
    for (let c = 0; c < n / 8; c++) {
      let word = 0;
      for (let j = 0; j < 8; j++) word |= q[(8 * c + AWQ_ORDER[j]!) * k + i]! << (4 * j);
      qweight[i * (n / 8) + c] = word;
    }
  }
  const qzeros = new Int32Array(groups * (n / 8));
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < n / 8; c++) {
      let word = 0;
      for (let j = 0; j < 8; j++) word |= z[g * n + 8 * c + AWQ_ORDER[j]!]! << (4 * j);
      qzeros[g * (n / 8) + c] = word;
    }
  }
  return { qweight, qzeros, scales: f16Tensor(s, [groups, n]) };
}

/** llm-awq / AutoAWQ calculate_zeros_width(k, G) (qmodule.py), written here apart from q4.ts's paddedGroups. */
function zerosWidth(k: number, G: number): number {
  const m = G >= 128 ? 1 : G === 64 ? 2 : G === 32 ? 4 : NaN;
  const base = Math.ceil(Math.floor(k / G) / 8);
  return Math.ceil(base / m) * m;
}

/** §0 GEMV (llm-awq v1): qweight[o][c] nibble j = q[o][8c + j]; qzeros[o][c] nibble j = z of group 8c + j; scales[o][g]; Gp padded with zeros. */
function packGemv(t: Truth): { qweight: Int32Array; qzeros: Int32Array; scales: Tensor<'f16'> } {
  const { n, k, G, q, z, s } = t;
  const groups = k / G;
  const gp = 8 * zerosWidth(k, G);
  const qweight = new Int32Array(n * (k / 8));
  const qzeros = new Int32Array(n * (gp / 8));
  const sc = new Float64Array(n * gp);
  for (let o = 0; o < n; o++) {
    for (let c = 0; c < k / 8; c++) {
      let word = 0;
      for (let j = 0; j < 8; j++) word |= q[o * k + 8 * c + j]! << (4 * j);
      qweight[o * (k / 8) + c] = word;
    }
    for (let c = 0; c < gp / 8; c++) {
      let word = 0;
      for (let j = 0; j < 8; j++) {
        const g = 8 * c + j;
        if (g < groups) word |= z[g * n + o]! << (4 * j);
      }
      qzeros[o * (gp / 8) + c] = word;
    }
    for (let g = 0; g < groups; g++) sc[o * gp + g] = s[g * n + o]!;
  }
  return { qweight, qzeros, scales: f16Tensor(sc, [n, gp]) };
}

/** Check the converted weight against (q − z)·s; returns how many elements were not bit-equal to round16((q − z)·s). */
function check(w: Q4Tensor, t: Truth): number {
  const { n, k, G, q, z, s } = t;
  expect(w.shape).toEqual([n, k]);
  expect(w.groupSize).toBe(G);
  validateQ4(w, 'converted');
  const row = new Float32Array(k);
  let inexact = 0;
  const bad: string[] = [];
  for (let o = 0; o < n; o++) {
    dequantizeQ4Row(w, o, row);
    for (let i = 0; i < k; i++) {
      const g = Math.floor(i / G);
      const sg = s[g * n + o]!;
      const zg = z[g * n + o]!;
      const qq = q[o * k + i]!;
      const ref = (qq - zg) * sg; // exact in f64
      // The documented bound: the single f16 rounding of s·z (≤ 2^-11·s·z) plus the final
      // rounding of the result to f16 that both forms share (≤ 2^-11·|result|, all normal here).
      const tol = 2 ** -11 * sg * zg + 2 ** -11 * Math.abs(ref) + 2 ** -11 * 2 ** -11 * sg;
      if (!(Math.abs(row[i]! - ref) <= tol)) bad.push(`W[${o}][${i}] = ${row[i]}, (q − z)·s = ${ref}, tolerance ${tol}`);
      // And bit-exactly the conversion's definition: round16(q·s + round16(−s·z)).
      if (!Object.is(row[i], roundF16(qq * sg + roundF16(-(sg * zg))))) bad.push(`W[${o}][${i}] = ${row[i]} is not round16(q·s + round16(−s·z))`);
      if (row[i] !== roundF16(ref)) inexact++;
    }
  }
  expect(bad.slice(0, 5)).toEqual([]);
  return inexact;
}

const cases = [
  { n: 72, k: 384, G: 128 }, // 3 groups, N not a multiple of 128
  { n: 200, k: 320, G: 64 }, // 5 groups
  { n: 384, k: 384, G: 128 }, // square: GEMM and GEMV qweight shapes coincide
];

describe('fromAutoAwqGemm / fromAwqGemv', () => {
  for (const { n, k, G } of cases) {
    it(`GEMM n=${n} k=${k} G=${G}: dequantized = (q − z)·s within the f16 rounding of s·z`, () => {
      const t = truth(n, k, G, n + k);
      const w = fromAutoAwqGemm(packGemm(t), n, k, G);
      expect(w.scales.shape).toEqual([paddedGroups(k, G), n]);
      expect(check(w, t)).toBeGreaterThan(0); // the random case does exercise the rounding of s·z
    });
    it(`GEMV n=${n} k=${k} G=${G}: dequantized = (q − z)·s within the f16 rounding of s·z`, () => {
      const t = truth(n, k, G, 7 * n + k);
      expect(check(fromAwqGemv(packGemv(t), n, k, G), t)).toBeGreaterThan(0);
    });
  }

  it('is bit-exact to (q − z)·s when s·z is exact in f16', () => {
    for (const { n, k, G } of cases) {
      const t = truth(n, k, G, 11 * n, true);
      expect(check(fromAutoAwqGemm(packGemm(t), n, k, G), t)).toBe(0);
      expect(check(fromAwqGemv(packGemv(t), n, k, G), t)).toBe(0);
    }
  });

  it('GEMM and GEMV of the same weight give identical Q4Tensors; nibbles ≥ 8 stay unsigned', () => {
    const t = truth(72, 384, 128, 3);
    t.q.fill(15, 0, 384); // row 0 all 15: a sign-extending unpack would read −1
    t.z.fill(15, 0, 8);
    const a = fromAutoAwqGemm(packGemm(t), 72, 384, 128);
    const b = fromAwqGemv(packGemv(t), 72, 384, 128);
    expect(b.qweight).toEqual(a.qweight);
    expect(b.scales.data).toEqual(a.scales.data);
    expect(b.scaledZeros.data).toEqual(a.scaledZeros.data);
    expect(a.qweight).toEqual(packTinyChatV2(t.q, 72, 384));
    check(a, t);
  });

  it('rejects buffers of the wrong size', () => {
    const t = truth(72, 384, 128, 5);
    const p = packGemm(t);
    expect(() => fromAutoAwqGemm({ ...p, qzeros: p.qzeros.subarray(1) }, 72, 384, 128)).toThrow(WeightError);
    expect(() => fromAutoAwqGemm({ ...p, qzeros: p.qzeros.subarray(1) }, 72, 384, 128)).toThrow(/qzeros has 26 elements, expected \[3, 9\]/);
    // GEMM buffers handed to the GEMV converter: qweight has the same length, qzeros does not
    expect(() => fromAwqGemv(p, 72, 384, 128)).toThrow(/qzeros has 27 elements, expected \[72, 1\]/);
  });
});

// --- detection and takeLinear over an in-memory source -------------------------------------------

const STORED: Partial<Record<DType, string>> = { i32: 'I32', i16: 'I16', f16: 'F16', f32: 'F32', bf16: 'BF16', i8: 'I8' };

function memSource(tensors: Record<string, Tensor>): WeightSource {
  const info = (name: string): TensorInfo => {
    const t = tensors[name]!;
    return { name, storedDtype: STORED[t.dtype]!, dtype: t.dtype, shape: t.shape, offset: 0, byteLength: t.data.length * DTYPE_BYTES[t.dtype] };
  };
  return {
    dir: 'mem',
    names: () => Object.keys(tensors),
    has: (n) => n in tensors,
    info,
    read: (n) => tensors[n]!,
    fileOf: () => 'mem/model.safetensors',
    close: () => {},
  };
}

const B = 'model.layers.0.mlp.up_proj';
const i32 = (data: Int32Array, shape: number[]): Tensor<'i32'> => ({ dtype: 'i32', shape, data });

function gemmTensors(t: Truth): Record<string, Tensor> {
  const p = packGemm(t);
  const groups = t.k / t.G;
  return { [`${B}.qweight`]: i32(p.qweight, [t.k, t.n / 8]), [`${B}.qzeros`]: i32(p.qzeros, [groups, t.n / 8]), [`${B}.scales`]: p.scales };
}
function gemvTensors(t: Truth): Record<string, Tensor> {
  const p = packGemv(t);
  const gp = paddedGroups(t.k, t.G);
  return { [`${B}.qweight`]: i32(p.qweight, [t.n, t.k / 8]), [`${B}.qzeros`]: i32(p.qzeros, [t.n, gp / 8]), [`${B}.scales`]: p.scales };
}
function v2Tensors(t: Truth, zerosKey: 'scaled_zeros' | 'qzeros'): Record<string, Tensor> {
  const w = fromAutoAwqGemm(packGemm(t), t.n, t.k, t.G);
  const q16 = new Int16Array(w.qweight.buffer, w.qweight.byteOffset, w.qweight.length);
  return { [`${B}.qweight`]: { dtype: 'i16', shape: [t.n / 4, t.k], data: q16 }, [`${B}.scales`]: w.scales, [`${B}.${zerosKey}`]: w.scaledZeros };
}

const keysOf = (ts: Record<string, Tensor>): AwqKeys =>
  Object.fromEntries(Object.entries(ts).map(([name, t]) => [name.slice(B.length + 1), { dtype: t.dtype, shape: t.shape }]));

describe('detectAwqLayout and WeightBinder.takeLinear', () => {
  for (const { n, k, G } of cases) {
    it(`detects and loads all four layouts, n=${n} k=${k} G=${G}`, () => {
      const t = truth(n, k, G, 13 + n);
      const layouts = [
        ['autoawq-gemm', gemmTensors(t)],
        ['awq-gemv', gemvTensors(t)],
        ['tinychat-v2', v2Tensors(t, 'scaled_zeros')],
        ['gemvfast', v2Tensors(t, 'qzeros')],
      ] as const;
      for (const [layout, ts] of layouts) {
        expect(detectAwqLayout(B, keysOf(ts), n, k, G)).toBe(layout);
        const binder = new WeightBinder(memSource(ts));
        const w = binder.takeLinear(B, n, k, G);
        expect(isQ4(w)).toBe(true);
        check(w as Q4Tensor, t);
        expect(binder.finish().unknown).toEqual([]);
      }
    });
  }

  it('fromGemvFast takes the v2 buffers as they are', () => {
    const t = truth(72, 384, 128, 2);
    const ts = v2Tensors(t, 'qzeros');
    const w = fromGemvFast(
      { qweight: ts[`${B}.qweight`]!.data as Int16Array, scales: ts[`${B}.scales`] as Tensor<'f16'>, qzeros: ts[`${B}.qzeros`] as Tensor<'f16'> },
      72,
      384,
      128,
    );
    check(w, t);
  });

  it('names the key on wrong dtypes, shapes and mixed key sets', () => {
    const t = truth(72, 384, 128, 4);
    const load = (ts: Record<string, Tensor>): unknown => new WeightBinder(memSource(ts)).takeLinear(B, 72, 384, 128);
    const gemm = gemmTensors(t);
    const bad = (patch: Record<string, Tensor | undefined>, re: RegExp): void => {
      const ts: Record<string, Tensor> = { ...gemm };
      for (const [key, v] of Object.entries(patch)) {
        if (v === undefined) delete ts[`${B}.${key}`];
        else ts[`${B}.${key}`] = v;
      }
      expect(() => load(ts)).toThrow(WeightError);
      expect(() => load(ts)).toThrow(re);
    };
    const qz = gemm[`${B}.qzeros`]!;
    const qw = gemm[`${B}.qweight`]!;
    const sc = gemm[`${B}.scales`]!;
    // qzeros as f16 next to an int32 qweight
    bad({ qzeros: { dtype: 'f16', shape: qz.shape, data: new Uint16Array(qz.data.length) } }, /up_proj\.qzeros' has dtype F16/);
    // int8 qweight
    bad({ qweight: { dtype: 'i8', shape: qw.shape, data: new Int8Array(qw.data.length) } }, /up_proj\.qweight' has dtype I8/);
    // int32 qweight of neither shape
    bad({ qweight: i32(new Int32Array(384 * 8), [384, 8]) }, /up_proj\.qweight' has shape \[384, 8\]; an int32 qweight is \[384, 9\]/);
    // f32 scales (GEMM wants f16 or bf16)
    bad({ scales: { dtype: 'f32', shape: sc.shape, data: new Float32Array(sc.data.length) } }, /up_proj\.scales' has dtype F32; expected f16 or bf16/);
    // GEMM scales of the wrong shape
    bad({ scales: { dtype: 'f16', shape: [8, 72], data: new Uint16Array(8 * 72) } }, /up_proj\.scales' has shape \[8, 72\], expected \[3, 72\]/);
    // qzeros missing; v2's scaled_zeros next to an int32 qweight
    bad({ qzeros: undefined }, /missing tensor 'model\.layers\.0\.mlp\.up_proj\.qzeros'/);
    bad({ scaled_zeros: sc }, /up_proj\.scaled_zeros' is present next to an int32 qweight/);
    // GEMVFast with int32 zeros
    const fast = v2Tensors(t, 'qzeros');
    expect(() => load({ ...fast, [`${B}.qzeros`]: i32(new Int32Array(8 * 72), [8, 72]) })).toThrow(/up_proj\.qzeros' has dtype I32 next to an int16 qweight/);
    // both zeros buffers next to an int16 qweight
    expect(() => load({ ...fast, [`${B}.scaled_zeros`]: fast[`${B}.qzeros`]! })).toThrow(/up_proj\.qzeros' and scaled_zeros are both present/);
    // square layer: scales of neither layout
    const sq = gemmTensors(truth(384, 384, 128, 6));
    expect(() => new WeightBinder(memSource({ ...sq, [`${B}.scales`]: { dtype: 'f16', shape: [4, 384], data: new Uint16Array(4 * 384) } })).takeLinear(B, 384, 384, 128)).toThrow(
      /up_proj\.scales' has shape \[4, 384\]; expected \[3, 384\] \(AutoAWQ GEMM\) or \[384, 8\] \(GEMV\)/,
    );
    // detection on its own names the file it was given
    expect(() => detectAwqLayout(B, { ...keysOf(gemm), qweight: { dtype: 'u8', shape: [1] } }, 72, 384, 128, 'f.safetensors')).toThrow(/f\.safetensors/);
  });
});
