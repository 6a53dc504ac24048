// The cross-backend cases, as data, at real model shapes (SigLIP 1152/4304, Llama 2560/6912,
// 4096/14336), decode (m = 1) and image-token rows, and ragged sizes that leave SIMD tails.
// Shared by the wasm (and later CUDA) op tests (test/ops/) and by `vila bench ops`.

import { f32ToF16, type FloatDType, type Tensor } from '../tensor.js';
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
  matmulCase('siglip qkv', 35, 1152, 1152, 'bf16', true),
  matmulCase('siglip fc1', 17, 1152, 4304, 'f16', true),
  matmulCase('siglip fc2', 10, 4304, 1152, 'f32', true),
  matmulCase('llama gate decode', 1, 2560, 6912, 'bf16', false),
  matmulCase('llama down decode', 1, 6912, 2560, 'bf16', false),
  matmulCase('llama-8b down decode', 1, 14336, 4096, 'bf16', false),
  matmulCase('llama prefill', 32, 2560, 2560, 'bf16', false),
];

export const ALL_CASES: OpCase[] = [...MATMUL_CASES];
