// The multimodal projector (VILA llava/model/multimodal_projector/base_projector.py):
//   mlp_downsample: DownSampleBlock (2×2 merge, column-major, zero padding for odd grids),
//                   LayerNorm(4C, eps 1e-5), Linear(4C→D), GELU (erf), Linear(D→D)
//   linear:         Linear(C→D)
//   mlpNx_gelu:     Linear(C→D), then (GELU, Linear(D→D)) × (N−1)
//   identity:       nothing (C must equal D)
// Checkpoint keys follow the nn.Sequential indices: layers.1/2/4 for mlp_downsample, layers.0,
// 2, 4, ... for mlpNx_gelu, and `layers.weight` for the single Linear.

import { allocate, run, type Backend } from '../backend.js';
import { ConfigError } from '../errors.js';
import { type F32Tensor, type FloatDType, type Tensor } from '../tensor.js';
import type { WeightBinder } from './binder.js';
import type { ProjectorType } from './config.js';

type W = Tensor<FloatDType>;

interface Linear {
  readonly w: W; // (out, in)
  readonly b: W; // (out)
}

export type ProjectorWeights =
  | { readonly kind: 'mlp_downsample'; readonly norm: { w: W; b: W }; readonly fc1: Linear; readonly fc2: Linear } // norm (4C); fc1 (D,4C); fc2 (D,D)
  | { readonly kind: 'mlp'; readonly linears: readonly Linear[] } // first (D,C), then (D,D)
  | { readonly kind: 'identity' };

/** LayerNorm eps of the downsample projector (nn.LayerNorm default). */
const DOWNSAMPLE_LN_EPS = 1e-5;

export function loadProjector(b: WeightBinder, type: ProjectorType, inDim: number, outDim: number): ProjectorWeights {
  const linear = (key: string, out: number, inp: number): Linear => ({ w: b.take(`${key}.weight`, [out, inp]), b: b.take(`${key}.bias`, [out]) });
  if (type === 'mlp_downsample') {
    const c4 = 4 * inDim;
    return {
      kind: 'mlp_downsample',
      norm: { w: b.take('layers.1.weight', [c4]), b: b.take('layers.1.bias', [c4]) },
      fc1: linear('layers.2', outDim, c4),
      fc2: linear('layers.4', outDim, outDim),
    };
  }
  if (type === 'linear') return { kind: 'mlp', linears: [linear('layers', outDim, inDim)] };
  if (type === 'identity') {
    if (inDim !== outDim) throw new ConfigError(`identity projector needs mm_hidden_size ${inDim} = hidden_size ${outDim}`, b.source.dir);
    return { kind: 'identity' };
  }
  const linears = [linear('layers.0', outDim, inDim)];
  for (let i = 1; i < type.mlpGelu; i++) linears.push(linear(`layers.${2 * i}`, outDim, outDim));
  return { kind: 'mlp', linears };
}

/** features (tokens, C) → (image tokens, D). */
export function projectorForward(be: Backend, w: ProjectorWeights, features: F32Tensor, name = 'projector'): F32Tensor {
  const [n, c] = features.shape as [number, number];
  if (w.kind === 'identity') return features;
  if (w.kind === 'mlp') {
    let x = features;
    w.linears.forEach((l, i) => {
      if (i > 0) run(be, 'gelu_erf', `${name}.act${i}`, { out: x, x });
      const out = allocate(be, [n, l.w.shape[0]!]);
      run(be, 'matmul', `${name}.linear${i}`, { out, x, w: l.w, bias: l.b });
      x = out;
    });
    return x;
  }
  const grid = Math.round(Math.sqrt(n));
  if (grid * grid !== n) {
    throw new ConfigError(`mlp_downsample needs a square grid of vision tokens, got ${n} (mm_vision_select_feature 'patch' on a tower without CLS?)`);
  }
  const half = Math.ceil(grid / 2);
  const merged = allocate(be, [half * half, 4 * c]);
  run(be, 'downsample_2x2', `${name}.downsample`, { out: merged, x: features, grid });
  run(be, 'layer_norm', `${name}.norm`, { out: merged, x: merged, weight: w.norm.w, bias: w.norm.b, eps: DOWNSAMPLE_LN_EPS });
  const d = w.fc1.w.shape[0]!;
  const hidden = allocate(be, [half * half, d]);
  run(be, 'matmul', `${name}.fc1`, { out: hidden, x: merged, w: w.fc1.w, bias: w.fc1.b });
  run(be, 'gelu_erf', `${name}.act`, { out: hidden, x: hidden });
  const out = allocate(be, [half * half, d]);
  run(be, 'matmul', `${name}.fc2`, { out, x: hidden, w: w.fc2.w, bias: w.fc2.b });
  return out;
}
