// The reference backend: plain scalar loops, one file per op family. It is the executable
// specification every fast backend is checked against, so it favours clarity and float64 sums.

import type { Backend, Kernels, OpArgs } from '../backend.js';
import { isQ4 } from '../quant/q4.js';
import { gelu_erf, gelu_tanh, silu_mul } from './activation.js';
import { attention } from './attention.js';
import { add, mul } from './elementwise.js';
import { embedding } from './embedding.js';
import { matmul } from './matmul.js';
import { matmul_q4 } from './matmul_q4.js';
import { layer_norm, rms_norm } from './norm.js';
import { rope } from './rope.js';
import { downsample_2x2, patch_embed } from './vision.js';

const kernels: Kernels = {
  matmul,
  matmul_q4,
  layer_norm,
  rms_norm,
  gelu_tanh,
  gelu_erf,
  silu_mul,
  add,
  mul,
  rope,
  attention,
  embedding,
  patch_embed,
  downsample_2x2,
};

const FLOAT_WEIGHTS = new Set(['f32', 'f16', 'bf16']);

export function createRefBackend(): Backend {
  return {
    name: 'ref',
    kernels,
    supports(op, args) {
      if (op === 'matmul_q4') return isQ4((args as OpArgs['matmul_q4']).w);
      if (op === 'matmul' || op === 'embedding' || op === 'patch_embed') {
        const a = args as { w?: { dtype: string }; table?: { dtype: string }; weight?: { dtype: string } };
        const weight = a.w ?? a.table ?? a.weight;
        return weight !== undefined && FLOAT_WEIGHTS.has(weight.dtype);
      }
      return kernels[op] !== undefined;
    },
  };
}
