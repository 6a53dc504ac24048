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
    // Four activation rows share each load of the weight row; every output is still one sum in
    // order p = 0..k-1, so the result is the same as one row at a time.
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const r = row[p]!;
        s0 += xs[x0 + p]! * r;
        s1 += xs[x1 + p]! * r;
        s2 += xs[x2 + p]! * r;
        s3 += xs[x3 + p]! * r;
      }
      o[i * n + j] = s0 + b0;
      o[(i + 1) * n + j] = s1 + b0;
      o[(i + 2) * n + j] = s2 + b0;
      o[(i + 3) * n + j] = s3 + b0;
    }
    for (; i < m; i++) {
      const xo = i * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += xs[xo + p]! * row[p]!;
      o[i * n + j] = s + b0;
    }
  }
}
