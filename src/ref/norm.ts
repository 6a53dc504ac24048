// Reference normalisations, statistics per row, computed in float64.

import type { OpArgs } from '../backend.js';
import { floatReader } from '../tensor.js';
import { dims2, expectLength, expectShape } from './check.js';

/** torch.nn.functional.layer_norm over the last dimension (biased variance). */
export function layer_norm({ out, x, weight, bias, eps }: OpArgs['layer_norm']): void {
  const [m, n] = dims2('layer_norm', 'x', x);
  expectShape('layer_norm', 'out', out, [m, n]);
  expectLength('layer_norm', 'weight', weight, n);
  expectLength('layer_norm', 'bias', bias, n);
  const w = floatReader(weight);
  const b = floatReader(bias);
  const xs = x.data;
  const o = out.data;
  for (let i = 0; i < m; i++) {
    const off = i * n;
    let mean = 0;
    for (let j = 0; j < n; j++) mean += xs[off + j]!;
    mean /= n;
    let v = 0;
    for (let j = 0; j < n; j++) {
      const d = xs[off + j]! - mean;
      v += d * d;
    }
    const inv = 1 / Math.sqrt(v / n + eps);
    for (let j = 0; j < n; j++) o[off + j] = (xs[off + j]! - mean) * inv * w(j) + b(j);
  }
}

/** LlamaRMSNorm (transformers 4.36): x · rsqrt(mean(x²) + eps), then · weight. */
export function rms_norm({ out, x, weight, eps }: OpArgs['rms_norm']): void {
  const [m, n] = dims2('rms_norm', 'x', x);
  expectShape('rms_norm', 'out', out, [m, n]);
  expectLength('rms_norm', 'weight', weight, n);
  const w = floatReader(weight);
  const xs = x.data;
  const o = out.data;
  for (let i = 0; i < m; i++) {
    const off = i * n;
    let ss = 0;
    for (let j = 0; j < n; j++) ss += xs[off + j]! * xs[off + j]!;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) o[off + j] = xs[off + j]! * inv * w(j);
  }
}
