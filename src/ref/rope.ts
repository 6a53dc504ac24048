// Reference rotary position embedding, rotate-half form (HF LlamaRotaryEmbedding, transformers
// 4.36 models/llama/modeling_llama.py): for j < d/2, with angle = pos · inv_freq[j],
//   x'[j]       = x[j]·cos − x[j + d/2]·sin
//   x'[j + d/2] = x[j + d/2]·cos + x[j]·sin
// Upstream builds inv_freq and the angles in float32; the roundings are emulated with
// Math.fround so that large positions land on the same angles as PyTorch.

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { dims2 } from './check.js';

/** inv_freq[j] = 1 / θ^(2j/d), rounded to float32 at each step as torch does. */
export function ropeInvFreq(headDim: number, theta: number): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let j = 0; j < half; j++) {
    const exponent = Math.fround((2 * j) / headDim);
    inv[j] = Math.fround(1 / Math.fround(Math.pow(theta, exponent)));
  }
  return inv;
}

export function rope({ x, positions, heads, headDim, theta }: OpArgs['rope']): void {
  const [m, width] = dims2('rope', 'x', x);
  if (width !== heads * headDim || headDim % 2 !== 0 || positions.length !== m) {
    throw new InputError(`rope: x is (${m}, ${width}), heads ${heads} × headDim ${headDim}, ${positions.length} positions`);
  }
  const half = headDim / 2;
  const inv = ropeInvFreq(headDim, theta);
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  const d = x.data;
  for (let r = 0; r < m; r++) {
    const pos = positions[r]!;
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(pos * inv[j]!);
      cos[j] = Math.fround(Math.cos(angle));
      sin[j] = Math.fround(Math.sin(angle));
    }
    for (let h = 0; h < heads; h++) {
      const base = r * width + h * headDim;
      for (let j = 0; j < half; j++) {
        const a = d[base + j]!;
        const b = d[base + j + half]!;
        d[base + j] = a * cos[j]! - b * sin[j]!;
        d[base + j + half] = b * cos[j]! + a * sin[j]!;
      }
    }
  }
}
