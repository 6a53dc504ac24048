// Reference matmul: out (m,n) = x (m,k) · w (n,k)ᵀ + bias (n).
// The weight keeps its stored dtype (f32, f16, bf16); each weight row is decoded once into an
// f32 scratch row and dotted with every activation row. Sums run in JS numbers (float64), so
// the oracle is more accurate than any float32 kernel it will judge.

import type { OpArgs } from '../backend.js';
import { decodeFloats, floatReader } from '../tensor.js';
import { dims2, expectLength, expectShape } from './check.js';

export function matmul({ out, x, w, bias }: OpArgs['matmul']): void {
  const [m, k] = dims2('matmul', 'x', x);
  const [n, kw] = dims2('matmul', 'w', w);
  if (kw !== k) expectShape('matmul', 'w', w, [n, k]);
  expectShape('matmul', 'out', out, [m, n]);
  if (bias !== undefined) expectLength('matmul', 'bias', bias, n);
  const b = bias === undefined ? undefined : floatReader(bias);
  const xs = x.data;
  const o = out.data;
  const row = new Float32Array(k);
  for (let j = 0; j < n; j++) {
    decodeFloats(w, j * k, k, row);
    const b0 = b === undefined ? 0 : b(j);
    for (let i = 0; i < m; i++) {
      const xo = i * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += xs[xo + p]! * row[p]!;
      o[i * n + j] = s + b0;
    }
  }
}
