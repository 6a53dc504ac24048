// Reference scaled dot-product attention over a preallocated KV cache, with grouped KV heads.
// Per query row and head: scores = q·kᵀ·scale over the visible keys, softmax (max-subtracted,
// float64), then the weighted sum of values. Mirrors HF LlamaAttention / SiglipAttention
// (softmax upcast to float32 upstream; float64 here).

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { dims2, expectShape } from './check.js';

export function attention(args: OpArgs['attention']): void {
  const { out, q, k, v, kvLen, qStart, heads, kvHeads, headDim, causal, scale } = args;
  const [m, width] = dims2('attention', 'q', q);
  const [capacity, kvWidth] = dims2('attention', 'k', k);
  expectShape('attention', 'v', v, [capacity, kvWidth]);
  expectShape('attention', 'out', out, [m, width]);
  if (width !== heads * headDim || kvWidth !== kvHeads * headDim || heads % kvHeads !== 0) {
    throw new InputError(`attention: q width ${width}, kv width ${kvWidth} do not fit ${heads} heads, ${kvHeads} kv heads of ${headDim}`);
  }
  if (kvLen > capacity || (causal && qStart + m > kvLen)) {
    throw new InputError(`attention: ${kvLen} valid keys for capacity ${capacity}, queries at ${qStart}..${qStart + m - 1}`);
  }
  const group = heads / kvHeads;
  const scores = new Float64Array(kvLen);
  const acc = new Float64Array(headDim);
  const qd = q.data;
  const kd = k.data;
  const vd = v.data;
  for (let r = 0; r < m; r++) {
    const visible = causal ? qStart + r + 1 : kvLen;
    for (let h = 0; h < heads; h++) {
      const qo = r * width + h * headDim;
      const ko = Math.floor(h / group) * headDim;
      let max = -Infinity;
      for (let t = 0; t < visible; t++) {
        let s = 0;
        for (let c = 0; c < headDim; c++) s += qd[qo + c]! * kd[t * kvWidth + ko + c]!;
        s *= scale;
        scores[t] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let t = 0; t < visible; t++) {
        const e = Math.exp(scores[t]! - max);
        scores[t] = e;
        sum += e;
      }
      acc.fill(0);
      for (let t = 0; t < visible; t++) {
        const p = scores[t]! / sum;
        for (let c = 0; c < headDim; c++) acc[c] = acc[c]! + p * vd[t * kvWidth + ko + c]!;
      }
      for (let c = 0; c < headDim; c++) out.data[qo + c] = acc[c]!;
    }
  }
}
