// SigLIP vision tower (HF SiglipVisionModel, transformers models/siglip/modeling_siglip.py) as
// VILA 1.5 uses it (llava/model/multimodal_encoder/siglip_encoder.py): patch embedding plus
// learned position embedding, then pre-LN encoder layers; the features are hidden_states[k]
// for mm_vision_select_layer (k = -2: the output of the second-to-last layer), so only the
// first k layers are loaded and run; post_layernorm and the pooling head never are.

import { allocate, run, type Backend } from '../backend.js';
import { rows, type F32Tensor, type FloatDType, type Tensor } from '../tensor.js';
import type { WeightBinder } from './binder.js';
import type { SiglipConfig, VisionSelect } from './config.js';

type W = Tensor<FloatDType>;

interface Linear {
  readonly w: W; // (out, in)
  readonly b: W; // (out)
}

interface Norm {
  readonly w: W; // (hidden)
  readonly b: W; // (hidden)
}

export interface SiglipLayer {
  readonly ln1: Norm;
  readonly q: Linear; // (d, d)
  readonly k: Linear; // (d, d)
  readonly v: Linear; // (d, d)
  readonly out: Linear; // (d, d)
  readonly ln2: Norm;
  readonly fc1: Linear; // (intermediate, d)
  readonly fc2: Linear; // (d, intermediate)
}

export interface SiglipWeights {
  readonly patchW: W; // (d, channels, patch, patch)
  readonly patchB: W; // (d)
  readonly position: W; // (grid², d)
  readonly layers: readonly SiglipLayer[]; // the first `select.layersToRun` layers only
}

export const siglipGrid = (cfg: SiglipConfig): number => Math.floor(cfg.imageSize / cfg.patchSize);

/** Keys (without the "vision_model." prefix) the tower does not use for these features. */
export function siglipUnused(select: VisionSelect): (key: string) => boolean {
  return (key) => {
    if (key.startsWith('post_layernorm.') || key.startsWith('head.') || key === 'embeddings.position_ids') return true;
    const m = /^encoder\.layers\.(\d+)\./.exec(key);
    return m !== null && Number(m[1]) >= select.layersToRun;
  };
}

export function loadSiglip(b: WeightBinder, cfg: SiglipConfig, select: VisionSelect): SiglipWeights {
  const d = cfg.hiddenSize;
  const f = cfg.intermediateSize;
  const linear = (key: string, out: number, inp: number): Linear => ({ w: b.take(`${key}.weight`, [out, inp]), b: b.take(`${key}.bias`, [out]) });
  const norm = (key: string): Norm => ({ w: b.take(`${key}.weight`, [d]), b: b.take(`${key}.bias`, [d]) });
  const grid = siglipGrid(cfg);
  const layers: SiglipLayer[] = [];
  for (let i = 0; i < select.layersToRun; i++) {
    const p = `encoder.layers.${i}`;
    layers.push({
      ln1: norm(`${p}.layer_norm1`),
      q: linear(`${p}.self_attn.q_proj`, d, d),
      k: linear(`${p}.self_attn.k_proj`, d, d),
      v: linear(`${p}.self_attn.v_proj`, d, d),
      out: linear(`${p}.self_attn.out_proj`, d, d),
      ln2: norm(`${p}.layer_norm2`),
      fc1: linear(`${p}.mlp.fc1`, f, d),
      fc2: linear(`${p}.mlp.fc2`, d, f),
    });
  }
  return {
    patchW: b.take('embeddings.patch_embedding.weight', [d, cfg.channels, cfg.patchSize, cfg.patchSize]),
    patchB: b.take('embeddings.patch_embedding.bias', [d]),
    position: b.take('embeddings.position_embedding.weight', [grid * grid, d]),
    layers,
  };
}

/** pixels (channels, S, S) → features (tokens, d): hidden_states[select] with select.feature applied. */
export function siglipForward(be: Backend, cfg: SiglipConfig, w: SiglipWeights, select: VisionSelect, pixels: F32Tensor, name = 'vision'): F32Tensor {
  const grid = siglipGrid(cfg);
  const n = grid * grid;
  const d = cfg.hiddenSize;
  const eps = cfg.layerNormEps;
  // Buffers in the backend's own memory where it has one (as in llama.ts): ops then read and
  // write them in place (wasm memory; the GPU for cuda, with no host round trip per op).
  const h = allocate(be, [n, d]);
  run(be, 'patch_embed', `${name}.patch_embed`, { out: h, pixels, weight: w.patchW, bias: w.patchB, patch: cfg.patchSize });
  const pos = allocate(be, [n, d]);
  run(be, 'embedding', `${name}.position_ids`, { out: pos, table: w.position, ids: Int32Array.from({ length: n }, (_, i) => i) });
  run(be, 'add', `${name}.embeddings`, { out: h, a: h, b: pos });

  const x = allocate(be, [n, d]);
  const q = allocate(be, [n, d]);
  const k = allocate(be, [n, d]);
  const v = allocate(be, [n, d]);
  const att = allocate(be, [n, d]);
  const proj = allocate(be, [n, d]);
  const mid = allocate(be, [n, cfg.intermediateSize]);
  w.layers.forEach((l, i) => {
    const p = `${name}.layers.${i}`;
    // x += out_proj(attention(LN1(x)))
    run(be, 'layer_norm', `${p}.ln1`, { out: x, x: h, weight: l.ln1.w, bias: l.ln1.b, eps });
    run(be, 'matmul', `${p}.attn.q`, { out: q, x, w: l.q.w, bias: l.q.b });
    run(be, 'matmul', `${p}.attn.k`, { out: k, x, w: l.k.w, bias: l.k.b });
    run(be, 'matmul', `${p}.attn.v`, { out: v, x, w: l.v.w, bias: l.v.b });
    run(be, 'attention', `${p}.attn.core`, {
      out: att, q, k, v, kvLen: n, qStart: 0, heads: cfg.heads, kvHeads: cfg.heads, headDim: cfg.headDim, causal: false, scale: cfg.headDim ** -0.5,
    });
    run(be, 'matmul', `${p}.attn.out`, { out: proj, x: att, w: l.out.w, bias: l.out.b });
    run(be, 'add', `${p}.attn.residual`, { out: h, a: h, b: proj });
    // x += fc2(gelu_tanh(fc1(LN2(x))))
    run(be, 'layer_norm', `${p}.ln2`, { out: x, x: h, weight: l.ln2.w, bias: l.ln2.b, eps });
    run(be, 'matmul', `${p}.mlp.fc1`, { out: mid, x, w: l.fc1.w, bias: l.fc1.b });
    run(be, 'gelu_tanh', `${p}.mlp.act`, { out: mid, x: mid });
    run(be, 'matmul', `${p}.mlp.fc2`, { out: proj, x: mid, w: l.fc2.w, bias: l.fc2.b });
    run(be, 'add', `${p}.out`, { out: h, a: h, b: proj });
  });
  // feature_select (vision_encoder.py): 'patch' drops token 0, 'cls_patch' keeps every token.
  return select.feature === 'patch' ? copyRows(h, 1, n) : h;
}

function copyRows(t: F32Tensor, start: number, end: number): F32Tensor {
  const r = rows(t, start, end);
  return { dtype: 'f32', shape: r.shape, data: r.data.slice() };
}
