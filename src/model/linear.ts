// One linear layer, whatever its weight: float weights (f32, f16, bf16) go to 'matmul', int4
// AWQ weights (TinyChat v2, spec/awq.md §2) to 'matmul_q4'. The model picks the op from the
// weight it holds, never from the backend; the trace name is the same either way.

import { run, type Backend } from '../backend.js';
import { isQ4, type Q4Tensor } from '../quant/q4.js';
import type { F32Tensor, Tensor } from '../tensor.js';

/** out (m,n) = x (m,k) · w (n,k)ᵀ + bias (n). */
export function linear(be: Backend, name: string, out: F32Tensor, x: F32Tensor, w: Tensor | Q4Tensor, bias?: Tensor): void {
  if (isQ4(w)) run(be, 'matmul_q4', name, { out, x, w, bias });
  else run(be, 'matmul', name, { out, x, w, bias });
}
