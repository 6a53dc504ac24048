// CUDA tolerances for the shared op cases. The GPU kernels may round activations to f16 for
// tensor cores (fp32 accumulation) in matmul, matmul_q4, patch_embed (an im2col matmul) and
// attention: an f16 input has a relative error up to 2⁻¹¹, so a dot product lands near 1e-7
// NMSE; 1e-6 leaves room for long k. Other ops compute in f32 with the device's libm (a few ulp,
// NMSE far below 1e-10); the exact ops (add, mul, embedding, downsample: copies and one rounding)
// keep their exact tolerance of 0.

import type { OpName } from '../backend.js';
import type { OpCase } from './harness.js';

const TENSOR_CORE_NMSE = 1e-6;
const LIBM_NMSE = 1e-10;
const TENSOR_CORE_OPS: ReadonlySet<OpName> = new Set(['matmul', 'matmul_q4', 'patch_embed', 'attention']);

/** `c` with the NMSE tolerance the CUDA kernels are held to. */
export function cudaCase(c: OpCase): OpCase {
  const nmse = TENSOR_CORE_OPS.has(c.op) ? Math.max(c.nmse, TENSOR_CORE_NMSE) : c.nmse === 0 ? 0 : Math.max(c.nmse, LIBM_NMSE);
  return { ...c, nmse, make: c.make.bind(c) };
}
