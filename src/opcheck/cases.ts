// The cross-backend cases, as data, at real model shapes (SigLIP 1152/4304, Llama 2560/6912,
// 4096/14336), decode (m = 1) and image-token rows, and ragged sizes that leave SIMD tails.
// Shared by the wasm (and later CUDA) op tests (test/ops/) and by `vila bench ops`.

import { f32ToF16, zeros, type F32Tensor, type FloatDType, type Tensor } from '../tensor.js';
import type { OpArgs } from '../backend.js';
import { MATMUL_Q4_CASES } from './cases_q4.js';
import { caseOf, fill, randn, type OpCase, type Rng } from './harness.js';

export function weight(rng: Rng, shape: readonly number[], dtype: FloatDType, scale = 0.05): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = randn(rng, n, scale);
  if (dtype === 'f32') return { dtype, shape: [...shape], data: v };
  return { dtype, shape: [...shape], data: dtype === 'bf16' ? toBf16(v) : Uint16Array.from(v, f32ToF16) };
}

/** f32 → bf16 bits, round to nearest even, in bulk (finite inputs). */
function toBf16(v: Float32Array): Uint16Array {
  const u = new Uint32Array(v.buffer, v.byteOffset, v.length);
  const out = new Uint16Array(v.length);
  for (let i = 0; i < u.length; i++) {
    const b = u[i]!;
    out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

function matmulCase(label: string, m: number, k: number, n: number, dtype: FloatDType, bias: boolean): OpCase {
  const wb = dtype === 'f32' ? 4 : 2;
  return caseOf({
    name: `matmul ${dtype} ${label} m=${m} k=${k} n=${n}${bias ? ' +bias' : ''}`,
    op: 'matmul',
    make: (rng, alloc) => ({
      x: fill(alloc([m, k]), rng),
      w: weight(rng, [n, k], dtype),
      bias: bias ? weight(rng, [n], dtype) : undefined,
      out: alloc([m, n]),
    }),
    nmse: 1e-10,
    flops: 2 * m * k * n,
    bytes: n * k * wb + 4 * (m * k + m * n),
  });
}

export const MATMUL_CASES: OpCase[] = [
  matmulCase('ragged', 7, 37, 13, 'f32', true),
  matmulCase('ragged', 5, 70, 11, 'bf16', true),
  matmulCase('ragged', 4, 69, 9, 'f16', false),
  // several k blocks (KC = 512) with a ragged tail, odd rows, columns past a 48-wide panel
  matmulCase('k-blocked ragged', 9, 1301, 50, 'bf16', true),
  matmulCase('k-blocked ragged', 7, 1030, 97, 'f16', true),
  matmulCase('k-blocked ragged', 6, 1027, 61, 'f32', false),
  matmulCase('siglip qkv', 35, 1152, 1152, 'bf16', true),
  matmulCase('siglip fc1', 17, 1152, 4304, 'f16', true),
  matmulCase('siglip fc2', 10, 4304, 1152, 'f32', true),
  matmulCase('llama gate decode', 1, 2560, 6912, 'bf16', false),
  matmulCase('llama down decode', 1, 6912, 2560, 'bf16', false),
  matmulCase('llama-8b down decode', 1, 14336, 4096, 'bf16', false),
  matmulCase('llama prefill', 32, 2560, 2560, 'bf16', false),
];

// --- elementwise and activations ---------------------------------------------------------------

/** A plain JavaScript f32 tensor (not in the backend's memory: exercises the copy-in path). */
function jsTensor(rng: Rng, shape: readonly number[], scale = 1): F32Tensor {
  return fill(zeros(shape), rng, scale);
}

function binaryCase(op: 'add' | 'mul', label: string, m: number, n: number, inPlace: boolean): OpCase {
  return caseOf({
    name: `${op} ${label} ${m}x${n}${inPlace ? ' in place' : ''}`,
    op,
    make: (rng, alloc) => {
      const a = fill(alloc([m, n]), rng);
      const b = inPlace ? jsTensor(rng, [m, n]) : fill(alloc([m, n]), rng);
      return { a, b, out: inPlace ? a : alloc([m, n]) };
    },
    nmse: 0,
    flops: m * n,
    bytes: 12 * m * n,
  });
}

export const ELEMENTWISE_CASES: OpCase[] = [
  binaryCase('add', 'ragged', 7, 37, false),
  binaryCase('add', 'siglip residual', 729, 1152, true),
  binaryCase('add', 'llama-8b residual decode', 1, 4096, true),
  binaryCase('mul', 'ragged', 3, 1001, false),
  binaryCase('mul', 'llama-3b', 64, 2560, false),
];

function unaryCase(op: 'gelu_tanh' | 'gelu_erf', label: string, m: number, n: number, scale: number, inPlace: boolean, nmse: number): OpCase {
  return caseOf({
    name: `${op} ${label} ${m}x${n}${inPlace ? ' in place' : ''}`,
    op,
    make: (rng, alloc) => {
      const x = fill(alloc([m, n]), rng, scale);
      return { x, out: inPlace ? x : alloc([m, n]) };
    },
    nmse,
    flops: 20 * m * n,
    bytes: 8 * m * n,
  });
}

function siluCase(label: string, m: number, n: number, inPlace: boolean): OpCase {
  return caseOf({
    name: `silu_mul ${label} ${m}x${n}${inPlace ? ' in place' : ''}`,
    op: 'silu_mul',
    make: (rng, alloc) => {
      const gate = fill(alloc([m, n]), rng, 4);
      const up = inPlace ? jsTensor(rng, [m, n]) : fill(alloc([m, n]), rng);
      return { gate, up, out: inPlace ? gate : alloc([m, n]) };
    },
    nmse: 1e-13,
    flops: 20 * m * n,
    bytes: 12 * m * n,
  });
}

// Activation inputs are scaled (×3, ×4) so that both tails of each function are exercised.
export const ACTIVATION_CASES: OpCase[] = [
  unaryCase('gelu_tanh', 'ragged', 3, 23, 4, false, 1e-13),
  unaryCase('gelu_tanh', 'siglip mlp', 729, 4304, 3, true, 1e-13),
  unaryCase('gelu_erf', 'ragged', 5, 21, 4, false, 1e-13),
  unaryCase('gelu_erf', 'projector', 196, 2560, 3, true, 1e-13),
  siluCase('ragged', 3, 37, false),
  siluCase('llama-8b decode', 1, 14336, true),
  siluCase('llama-3b prefill', 64, 6912, true),
];

// --- norms -------------------------------------------------------------------------------------

function layerNormCase(label: string, m: number, n: number, dtype: FloatDType, eps: number, inPlace: boolean): OpCase {
  return caseOf({
    name: `layer_norm ${dtype} ${label} ${m}x${n}${inPlace ? ' in place' : ''}`,
    op: 'layer_norm',
    make: (rng, alloc) => {
      // An offset mean (+0.5) checks the two-pass variance.
      const x = fill(alloc([m, n]), rng, 2);
      for (let i = 0; i < x.data.length; i++) x.data[i]! += 0.5;
      return { x, weight: weight(rng, [n], dtype, 1), bias: weight(rng, [n], dtype, 0.1), eps, out: inPlace ? x : alloc([m, n]) };
    },
    nmse: 1e-12,
    flops: 8 * m * n,
    bytes: 8 * m * n,
  });
}

function rmsNormCase(label: string, m: number, n: number, dtype: FloatDType, inPlace: boolean): OpCase {
  return caseOf({
    name: `rms_norm ${dtype} ${label} ${m}x${n}${inPlace ? ' in place' : ''}`,
    op: 'rms_norm',
    make: (rng, alloc) => {
      const x = fill(alloc([m, n]), rng, 2);
      return { x, weight: weight(rng, [n], dtype, 1), eps: 1e-5, out: inPlace ? x : alloc([m, n]) };
    },
    nmse: 1e-12,
    flops: 5 * m * n,
    bytes: 8 * m * n,
  });
}

export const NORM_CASES: OpCase[] = [
  layerNormCase('ragged', 5, 37, 'f32', 1e-6, false),
  layerNormCase('siglip', 729, 1152, 'bf16', 1e-6, false),
  layerNormCase('projector', 196, 4608, 'f16', 1e-5, true),
  rmsNormCase('ragged', 3, 70, 'f16', false),
  rmsNormCase('llama-3b decode', 1, 2560, 'bf16', false),
  rmsNormCase('llama-8b prefill', 64, 4096, 'bf16', true),
];

// --- rope --------------------------------------------------------------------------------------

function ropeCase(label: string, m: number, heads: number, headDim: number, start: number, theta: number): OpCase {
  return caseOf({
    name: `rope ${label} m=${m} ${heads}x${headDim} from ${start}`,
    op: 'rope',
    make: (rng, alloc) => ({
      x: fill(alloc([m, heads * headDim]), rng),
      positions: Int32Array.from({ length: m }, (_, i) => start + i),
      heads,
      headDim,
      theta,
    }),
    outputs: ['x'],
    nmse: 0,
    flops: 6 * m * heads * headDim,
    bytes: 8 * m * heads * headDim,
  });
}

export const ROPE_CASES: OpCase[] = [
  ropeCase('ragged', 5, 3, 10, 37, 10000),
  ropeCase('llama-3b q', 16, 20, 128, 37, 10000),
  ropeCase('llama-8b k', 16, 8, 128, 37, 500000),
  ropeCase('llama-8b q decode', 1, 32, 128, 4099, 500000),
];

// --- attention ---------------------------------------------------------------------------------

/** The attention op's sizes (OpArgs), plus query rows and cache capacity. */
type AttnShape = Pick<OpArgs['attention'], 'kvLen' | 'qStart' | 'heads' | 'kvHeads' | 'headDim' | 'causal'> & { m: number; capacity: number };

function attentionCase(label: string, s: AttnShape, nmse = 2e-12): OpCase {
  const { m, kvLen, heads, kvHeads, headDim, causal, capacity } = s;
  const visible = causal ? s.qStart + (m + 1) / 2 : kvLen; // mean keys per query
  return caseOf({
    name: `attention ${label} m=${m} kv=${kvLen}@${s.qStart} ${heads}/${kvHeads}x${headDim}${causal ? ' causal' : ''}`,
    op: 'attention',
    make: (rng, alloc) => ({
      // Scores of a few units (q, k ~ N(0, 1.5²) scaled by 1/√d) make a peaked, not flat, softmax.
      q: fill(alloc([m, heads * headDim]), rng, 1.5),
      k: fill(alloc([capacity, kvHeads * headDim]), rng, 1.5),
      v: fill(alloc([capacity, kvHeads * headDim]), rng),
      out: alloc([m, heads * headDim]),
      kvLen,
      qStart: s.qStart,
      heads,
      kvHeads,
      headDim,
      causal,
      scale: 1 / Math.sqrt(headDim),
    }),
    nmse,
    flops: 4 * m * heads * visible * headDim,
    bytes: 4 * (2 * m * heads * headDim + 2 * kvLen * kvHeads * headDim),
  });
}

const LLAMA_8B = { heads: 32, kvHeads: 8, headDim: 128 };
const LLAMA_3B = { heads: 20, kvHeads: 20, headDim: 128 };

export const ATTENTION_CASES: OpCase[] = [
  attentionCase('ragged gqa', { m: 5, kvLen: 133, qStart: 128, heads: 6, kvHeads: 2, headDim: 10, causal: true, capacity: 140 }),
  attentionCase('ragged', { m: 7, kvLen: 70, qStart: 0, heads: 3, kvHeads: 3, headDim: 13, causal: false, capacity: 70 }),
  attentionCase('empty cache', { m: 2, kvLen: 0, qStart: 0, heads: 2, kvHeads: 1, headDim: 8, causal: false, capacity: 4 }),
  attentionCase('siglip', { m: 729, kvLen: 729, qStart: 0, heads: 16, kvHeads: 16, headDim: 72, causal: false, capacity: 729 }),
  attentionCase('llama-8b decode', { m: 1, kvLen: 700, qStart: 699, ...LLAMA_8B, causal: true, capacity: 1024 }),
  attentionCase('llama-3b decode', { m: 1, kvLen: 701, qStart: 700, ...LLAMA_3B, causal: true, capacity: 1024 }),
  attentionCase('llama-8b prefill', { m: 64, kvLen: 101, qStart: 37, ...LLAMA_8B, causal: true, capacity: 256 }),
  attentionCase('llama-3b prefill', { m: 64, kvLen: 64, qStart: 0, ...LLAMA_3B, causal: true, capacity: 256 }),
];

// --- embedding and vision ----------------------------------------------------------------------

function embeddingCase(label: string, vocab: number, d: number, dtype: FloatDType, m: number): OpCase {
  return caseOf({
    name: `embedding ${dtype} ${label} ${vocab}x${d} m=${m}`,
    op: 'embedding',
    make: (rng, alloc) => {
      const ids = Int32Array.from({ length: m }, (_, i) => (i === 0 ? vocab - 1 : Math.floor(rng() * vocab)));
      // Only the rows looked up are drawn (a 32000-row table would take seconds per run).
      const rowsOf = weight(rng, [m, d], dtype, 1);
      const table = { dtype, shape: [vocab, d], data: dtype === 'f32' ? new Float32Array(vocab * d) : new Uint16Array(vocab * d) } as Tensor;
      const src = rowsOf.data as Float32Array | Uint16Array;
      ids.forEach((id, r) => (table.data as Float32Array | Uint16Array).set(src.subarray(r * d, (r + 1) * d), id * d));
      return { table, ids, out: alloc([m, d]) };
    },
    nmse: 0,
    flops: 0,
    bytes: m * d * (4 + (dtype === 'f32' ? 4 : 2)),
  });
}

function patchEmbedCase(label: string, c: number, h: number, w: number, p: number, d: number, dtype: FloatDType): OpCase {
  const np = Math.floor(h / p) * Math.floor(w / p);
  return caseOf({
    name: `patch_embed ${dtype} ${label} (${c},${h},${w}) p=${p} → ${np}x${d}`,
    op: 'patch_embed',
    make: (rng, alloc) => ({
      pixels: fill(alloc([c, h, w]), rng),
      weight: weight(rng, [d, c, p, p], dtype),
      bias: weight(rng, [d], dtype),
      patch: p,
      out: alloc([np, d]),
    }),
    nmse: 1e-12,
    flops: 2 * np * c * p * p * d,
    bytes: 4 * (c * h * w + np * d) + d * c * p * p * (dtype === 'f32' ? 4 : 2),
  });
}

function downsampleCase(grid: number, c: number): OpCase {
  const half = Math.ceil(grid / 2);
  return caseOf({
    name: `downsample_2x2 grid ${grid} c=${c}`,
    op: 'downsample_2x2',
    make: (rng, alloc) => ({ x: fill(alloc([grid * grid, c]), rng), grid, out: alloc([half * half, 4 * c]) }),
    nmse: 0,
    flops: 0,
    bytes: 4 * (grid * grid * c + half * half * 4 * c),
  });
}

export const EMBEDDING_CASES: OpCase[] = [
  embeddingCase('ragged', 100, 37, 'f32', 9),
  embeddingCase('llama-3b', 32000, 2560, 'bf16', 64),
  embeddingCase('siglip positions', 729, 1152, 'f16', 729),
];

export const VISION_CASES: OpCase[] = [
  patchEmbedCase('ragged', 3, 30, 45, 7, 10, 'f32'),
  patchEmbedCase('siglip', 3, 384, 384, 14, 1152, 'bf16'),
  patchEmbedCase('siglip', 3, 384, 384, 14, 1152, 'f16'),
  downsampleCase(4, 37),
  downsampleCase(27, 1152),
];

export const ALL_CASES: OpCase[] = [
  ...MATMUL_CASES,
  ...ELEMENTWISE_CASES,
  ...ACTIVATION_CASES,
  ...NORM_CASES,
  ...ROPE_CASES,
  ...ATTENTION_CASES,
  ...EMBEDDING_CASES,
  ...VISION_CASES,
  ...MATMUL_Q4_CASES,
];
