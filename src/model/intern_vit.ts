// InternViT vision tower (VILA1.5-40b: InternViT-6B-448px; spec/vila.md §2), as NVlabs/VILA
// llava/model/multimodal_encoder/intern/modeling_intern_vit.py (InternVisionEmbeddings,
// InternAttention._naive_attn, InternVisionEncoderLayer) and intern_encoder.py use it:
//   embeddings: [CLS; Conv2d patches (row-major)] + position_embedding   (1 + g², d)
//   layer:      x += ls1 · proj(attention(RMSNorm1(x)))
//               x += ls2 · fc2(gelu_erf(fc1(RMSNorm2(x))))
// The fused qkv Linear is split at load into q, k, v (rows [0,d), [d,2d), [2d,3d): the reshape
// (L, 3, heads, head_dim) of its output); q_norm / k_norm are RMSNorms over the full width d,
// all heads at once, before the head split. Features are hidden_states[k] for
// mm_vision_select_layer (−1 for 40b: the last layer, no final norm); 'patch' drops CLS.
// Only the layers that are run are loaded.

import { allocate, run, type Backend } from '../backend.js';
import { reshape, rows, type F32Tensor, type FloatDType, type Tensor } from '../tensor.js';
import type { WeightBinder } from './binder.js';
import type { VisionSelect } from './config.js';
import type { InternVitConfig } from './intern_vit_config.js';

type W = Tensor<FloatDType>;

interface Linear {
  readonly w: W; // (out, in)
  readonly b?: W; // (out)
}

export interface InternVitLayer {
  readonly norm1: W; // (d)
  readonly q: Linear; // (d, d), bias only with qkv_bias
  readonly k: Linear; // (d, d)
  readonly v: Linear; // (d, d)
  readonly qNorm?: W; // (d), with qk_normalization
  readonly kNorm?: W; // (d)
  readonly proj: Linear; // (d, d)
  readonly ls1: W; // (1, d) layer scale, one row to broadcast
  readonly norm2: W; // (d)
  readonly fc1: Linear; // (intermediate, d)
  readonly fc2: Linear; // (d, intermediate)
  readonly ls2: W; // (1, d)
}

export interface InternVitWeights {
  readonly kind: 'intern';
  readonly cls: W; // (1, d)
  readonly patchW: W; // (d, 3, patch, patch)
  readonly patchB: W; // (d)
  readonly position: W; // (1 + grid², d)
  readonly layers: readonly InternVitLayer[]; // the first `select.layersToRun` layers only
}

export const internGrid = (cfg: InternVitConfig): number => Math.floor(cfg.imageSize / cfg.patchSize);

/** Tokens out of the tower before feature selection: CLS + grid². */
export const internTokens = (cfg: InternVitConfig): number => 1 + internGrid(cfg) ** 2;

/** Keys (no prefix: InternVisionModel's own state dict) of layers that are not run. */
export function internVitUnused(select: VisionSelect): (key: string) => boolean {
  return (key) => {
    const m = /^encoder\.layers\.(\d+)\./.exec(key);
    return m !== null && Number(m[1]) >= select.layersToRun;
  };
}

export function loadInternVit(b: WeightBinder, cfg: InternVitConfig, select: VisionSelect): InternVitWeights {
  const d = cfg.hiddenSize;
  const f = cfg.intermediateSize;
  const n = internTokens(cfg);
  const linear = (key: string, out: number, inp: number): Linear => ({ w: b.take(`${key}.weight`, [out, inp]), b: b.take(`${key}.bias`, [out]) });
  const row = (key: string): W => reshape(b.take(key, [d]), [1, d]);
  const layers: InternVitLayer[] = [];
  for (let i = 0; i < select.layersToRun; i++) {
    const p = `encoder.layers.${i}`;
    const [qw, kw, vw] = b.takeSplit(`${p}.attn.qkv.weight`, [3 * d, d], 3) as [W, W, W];
    const [qb, kb, vb] = cfg.qkvBias ? (b.takeSplit(`${p}.attn.qkv.bias`, [3 * d], 3) as [W, W, W]) : [];
    layers.push({
      norm1: b.take(`${p}.norm1.weight`, [d]),
      q: { w: qw, b: qb },
      k: { w: kw, b: kb },
      v: { w: vw, b: vb },
      ...(cfg.qkNormalization ? { qNorm: b.take(`${p}.attn.q_norm.weight`, [d]), kNorm: b.take(`${p}.attn.k_norm.weight`, [d]) } : {}),
      proj: linear(`${p}.attn.proj`, d, d),
      ls1: row(`${p}.ls1`),
      norm2: b.take(`${p}.norm2.weight`, [d]),
      fc1: linear(`${p}.mlp.fc1`, f, d),
      fc2: linear(`${p}.mlp.fc2`, d, f),
      ls2: row(`${p}.ls2`),
    });
  }
  return {
    kind: 'intern',
    cls: reshape(b.take('embeddings.class_embedding', [1, 1, d]), [1, d]),
    patchW: b.take('embeddings.patch_embedding.weight', [d, cfg.channels, cfg.patchSize, cfg.patchSize]),
    patchB: b.take('embeddings.patch_embedding.bias', [d]),
    position: reshape(b.take('embeddings.position_embedding', [1, n, d]), [n, d]),
    layers,
  };
}

/** pixels (3, S, S) → features (tokens, d): hidden_states[select] with select.feature applied. */
export function internVitForward(be: Backend, cfg: InternVitConfig, w: InternVitWeights, select: VisionSelect, pixels: F32Tensor, name = 'vision'): F32Tensor {
  const n = internTokens(cfg);
  const d = cfg.hiddenSize;
  const eps = cfg.layerNormEps;
  // Embeddings: row 0 is the class embedding, rows 1.. the patches; the op writes them in place.
  const h = allocate(be, [n, d]);
  run(be, 'embedding', `${name}.cls`, { out: rows(h, 0, 1), table: w.cls, ids: new Int32Array(1) });
  run(be, 'patch_embed', `${name}.patch_embed`, { out: rows(h, 1, n), pixels, weight: w.patchW, bias: w.patchB, patch: cfg.patchSize });
  const pos = allocate(be, [n, d]);
  run(be, 'embedding', `${name}.position_ids`, { out: pos, table: w.position, ids: Int32Array.from({ length: n }, (_, i) => i) });
  run(be, 'add', `${name}.embeddings`, { out: h, a: h, b: pos });

  const x = allocate(be, [n, d]);
  const q = allocate(be, [n, d]);
  const k = allocate(be, [n, d]);
  const v = allocate(be, [n, d]);
  const att = allocate(be, [n, d]);
  const proj = allocate(be, [n, d]);
  const scale = allocate(be, [n, d]);
  const mid = allocate(be, [n, cfg.intermediateSize]);
  // Layer scale ls (d) multiplies every row: 'embedding' with one-row table and ids all 0
  // broadcasts it to (n, d), then 'mul' (equal shapes) applies it.
  const zeros = new Int32Array(n);
  w.layers.forEach((l, i) => {
    const p = `${name}.layers.${i}`;
    // x += ls1 · proj(attention(RMSNorm1(x)))
    run(be, 'rms_norm', `${p}.norm1`, { out: x, x: h, weight: l.norm1, eps });
    run(be, 'matmul', `${p}.attn.q`, { out: q, x, w: l.q.w, bias: l.q.b });
    run(be, 'matmul', `${p}.attn.k`, { out: k, x, w: l.k.w, bias: l.k.b });
    run(be, 'matmul', `${p}.attn.v`, { out: v, x, w: l.v.w, bias: l.v.b });
    if (l.qNorm !== undefined && l.kNorm !== undefined) {
      run(be, 'rms_norm', `${p}.attn.q_norm`, { out: q, x: q, weight: l.qNorm, eps });
      run(be, 'rms_norm', `${p}.attn.k_norm`, { out: k, x: k, weight: l.kNorm, eps });
    }
    // Upstream scales q before q·kᵀ; the op scales the dot product (float32 rounding apart, equal).
    run(be, 'attention', `${p}.attn.core`, {
      out: att, q, k, v, kvLen: n, qStart: 0, heads: cfg.heads, kvHeads: cfg.heads, headDim: cfg.headDim, causal: false, scale: cfg.headDim ** -0.5,
    });
    run(be, 'matmul', `${p}.attn.proj`, { out: proj, x: att, w: l.proj.w, bias: l.proj.b });
    run(be, 'embedding', `${p}.ls1`, { out: scale, table: l.ls1, ids: zeros });
    run(be, 'mul', `${p}.attn.scaled`, { out: proj, a: proj, b: scale });
    run(be, 'add', `${p}.attn.residual`, { out: h, a: h, b: proj });
    // x += ls2 · fc2(gelu_erf(fc1(RMSNorm2(x))))
    run(be, 'rms_norm', `${p}.norm2`, { out: x, x: h, weight: l.norm2, eps });
    run(be, 'matmul', `${p}.mlp.fc1`, { out: mid, x, w: l.fc1.w, bias: l.fc1.b });
    run(be, 'gelu_erf', `${p}.mlp.act`, { out: mid, x: mid });
    run(be, 'matmul', `${p}.mlp.fc2`, { out: proj, x: mid, w: l.fc2.w, bias: l.fc2.b });
    run(be, 'embedding', `${p}.ls2`, { out: scale, table: l.ls2, ids: zeros });
    run(be, 'mul', `${p}.mlp.scaled`, { out: proj, a: proj, b: scale });
    run(be, 'add', `${p}.out`, { out: h, a: h, b: proj });
  });
  // feature_select (vision_encoder.py): 'patch' drops the CLS token, 'cls_patch' keeps it.
  return select.feature === 'patch' ? copyRows(h, 1, n) : h;
}

function copyRows(t: F32Tensor, start: number, end: number): F32Tensor {
  const r = rows(t, start, end);
  return { dtype: 'f32', shape: r.shape, data: r.data.slice() };
}
