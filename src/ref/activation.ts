// Reference activations, elementwise in float64 (rounded to float32 on store).

import type { OpArgs } from '../backend.js';
import { expectLength } from './check.js';
import { erf } from './erf.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation (PyTorch approximate='tanh'; HF "gelu_pytorch_tanh", SigLIP's MLP). */
export function gelu_tanh({ out, x }: OpArgs['gelu_tanh']): void {
  expectLength('gelu_tanh', 'out', out, x.data.length);
  const xs = x.data;
  const o = out.data;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    o[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
  }
}

/** GELU with the exact erf (PyTorch's default nn.GELU; the mlp_downsample projector). */
export function gelu_erf({ out, x }: OpArgs['gelu_erf']): void {
  expectLength('gelu_erf', 'out', out, x.data.length);
  const xs = x.data;
  const o = out.data;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    o[i] = 0.5 * v * (1 + erf(v / Math.SQRT2));
  }
}

/** Llama MLP gate: silu(gate) · up with silu(g) = g / (1 + e^{−g}). */
export function silu_mul({ out, gate, up }: OpArgs['silu_mul']): void {
  const n = gate.data.length;
  expectLength('silu_mul', 'up', up, n);
  expectLength('silu_mul', 'out', out, n);
  const g = gate.data;
  const u = up.data;
  const o = out.data;
  for (let i = 0; i < n; i++) {
    const v = g[i]!;
    o[i] = (v / (1 + Math.exp(-v))) * u[i]!;
  }
}
