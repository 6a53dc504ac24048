// The Llama decoder (HF LlamaForCausalLM, transformers 4.36 models/llama/modeling_llama.py):
// per layer x += o(attn(rope(q), rope(k), v)) on RMSNorm(x), then x += down(silu(gate)·up) on
// RMSNorm(x); a final RMSNorm and the untied lm_head. Keys and values go straight into a
// preallocated per-layer KV cache; logits are computed for the last position only.

import { allocate, run, type Backend } from '../backend.js';
import { InputError } from '../errors.js';
import type { Q4Tensor } from '../quant/q4.js';
import { rows, zeros, type F32Tensor, type FloatDType, type Tensor } from '../tensor.js';
import type { WeightBinder } from './binder.js';
import type { LlamaConfig } from './config.js';
import { linear } from './linear.js';

type W = Tensor<FloatDType>;
/** A linear weight: float, or int4 AWQ (TinyChat v2, spec/awq.md §2) from a .pt checkpoint. */
type L = W | Q4Tensor;

export interface LlamaLayer {
  readonly inputNorm: W; // (d)
  readonly q: L; // (heads·headDim, d)
  readonly k: L; // (kvHeads·headDim, d)
  readonly v: L; // (kvHeads·headDim, d)
  readonly o: L; // (d, heads·headDim)
  readonly postNorm: W; // (d)
  readonly gate: L; // (ffn, d)
  readonly up: L; // (ffn, d)
  readonly down: L; // (d, ffn)
}

export interface LlamaWeights {
  readonly embed: W; // (vocab, d)
  readonly layers: readonly LlamaLayer[];
  readonly norm: W; // (d)
  readonly lmHead: L; // (vocab, d); int4 only in in-memory benchmark shapes (AWQ keeps it fp16)
}

export const llamaUnused = (key: string): boolean => /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/.test(key);

export function loadLlama(b: WeightBinder, cfg: LlamaConfig): LlamaWeights {
  const d = cfg.hiddenSize;
  const qd = cfg.heads * cfg.headDim;
  const kvd = cfg.kvHeads * cfg.headDim;
  const f = cfg.intermediateSize;
  const layers: LlamaLayer[] = [];
  // TinyChat v2 checkpoints hold int4 linears (spec/awq.md §3.1); their group size is not in
  // the tensors (§2.1), so it comes from the config, else llm-awq's default 128.
  const g = cfg.awqGroupSize ?? 128;
  for (let i = 0; i < cfg.layers; i++) {
    const p = `model.layers.${i}`;
    layers.push({
      inputNorm: b.take(`${p}.input_layernorm.weight`, [d]),
      q: b.takeLinear(`${p}.self_attn.q_proj`, qd, d, g),
      k: b.takeLinear(`${p}.self_attn.k_proj`, kvd, d, g),
      v: b.takeLinear(`${p}.self_attn.v_proj`, kvd, d, g),
      o: b.takeLinear(`${p}.self_attn.o_proj`, d, qd, g),
      postNorm: b.take(`${p}.post_attention_layernorm.weight`, [d]),
      gate: b.takeLinear(`${p}.mlp.gate_proj`, f, d, g),
      up: b.takeLinear(`${p}.mlp.up_proj`, f, d, g),
      down: b.takeLinear(`${p}.mlp.down_proj`, d, f, g),
    });
  }
  const embed = b.take('model.embed_tokens.weight', [cfg.vocabSize, d]);
  const lmHead = cfg.tieWordEmbeddings && !b.source.has('lm_head.weight') ? embed : b.take('lm_head.weight', [cfg.vocabSize, d]);
  return { embed, layers, norm: b.take('model.norm.weight', [d]), lmHead };
}

/** Keys and values of every layer for positions [0, length), preallocated to `capacity`. */
export class KVCache {
  readonly k: F32Tensor[];
  readonly v: F32Tensor[];
  length = 0;

  constructor(
    cfg: LlamaConfig,
    readonly capacity: number,
    /** Where the cache lives: in this backend's memory where it has its own (no copy per op). */
    be?: Backend,
  ) {
    const width = cfg.kvHeads * cfg.headDim;
    const make = (): F32Tensor => (be === undefined ? zeros([capacity, width]) : allocate(be, [capacity, width]));
    this.k = Array.from({ length: cfg.layers }, make);
    this.v = Array.from({ length: cfg.layers }, make);
  }
}

/** Embed token ids (all ≥ 0) → (m, d). */
export function llamaEmbed(be: Backend, cfg: LlamaConfig, w: LlamaWeights, ids: Int32Array): F32Tensor {
  const out = allocate(be, [ids.length, cfg.hiddenSize]);
  run(be, 'embedding', 'llm.embed', { out, table: w.embed, ids });
  return out;
}

/**
 * Run `embeds` (m, d), the inputs at positions [cache.length, cache.length + m), through the
 * decoder, append their keys and values to the cache, and return the logits (1, vocab) of the
 * last of them, or with `allPositions` those of every row (m, vocab) (perplexity).
 */
export function llamaForward(
  be: Backend, cfg: LlamaConfig, w: LlamaWeights, embeds: F32Tensor, cache: KVCache, allPositions = false,
): F32Tensor {
  const m = embeds.shape[0]!;
  const start = cache.length;
  if (start + m > cache.capacity) {
    throw new InputError(`sequence of ${start + m} positions exceeds the KV cache of ${cache.capacity}`);
  }
  const d = cfg.hiddenSize;
  // Buffers in the backend's own memory where it has one: ops then read and write them in place.
  const h = allocate(be, [m, d]);
  h.data.set(embeds.data);
  const bufs = layerBuffers(be, cfg, m);
  w.layers.forEach((l, i) => decoderLayer(be, cfg, l, `llm.layers.${i}`, h, cache.k[i]!, cache.v[i]!, start, bufs));
  cache.length = start + m;
  const last = allPositions ? h : rows(h, m - 1, m);
  const r = last.shape[0]!;
  const normed = allocate(be, [r, d]);
  run(be, 'rms_norm', 'llm.norm', { out: normed, x: last, weight: w.norm, eps: cfg.rmsNormEps });
  const logits = zeros([r, cfg.vocabSize]);
  linear(be, 'llm.lm_head', logits, normed, w.lmHead);
  return logits;
}

/** Scratch activations of one decoder layer over m rows, reused layer after layer. */
export interface LayerBuffers {
  readonly x: F32Tensor; // (m, d) normed input of the attention or the MLP
  readonly q: F32Tensor; // (m, heads·headDim)
  readonly att: F32Tensor; // (m, heads·headDim) attention output, o_proj's input
  readonly proj: F32Tensor; // (m, d) block output before the residual add
  readonly gate: F32Tensor; // (m, ffn), then silu(gate)·up, down_proj's input
  readonly up: F32Tensor; // (m, ffn)
}

export function layerBuffers(be: Backend, cfg: LlamaConfig, m: number): LayerBuffers {
  const qd = cfg.heads * cfg.headDim;
  return {
    x: allocate(be, [m, cfg.hiddenSize]),
    q: allocate(be, [m, qd]),
    att: allocate(be, [m, qd]),
    proj: allocate(be, [m, cfg.hiddenSize]),
    gate: allocate(be, [m, cfg.intermediateSize]),
    up: allocate(be, [m, cfg.intermediateSize]),
  };
}

/**
 * Self-attention of rows x (m, d) at positions [start, start + m) → out (m, d) (o_proj's output);
 * their keys and values are written to rows [start, start + m) of kCache / vCache
 * (capacity, kvHeads·headDim) and attention reads rows [0, start + m).
 */
export function attentionBlock(
  be: Backend, cfg: LlamaConfig, l: Pick<LlamaLayer, 'q' | 'k' | 'v' | 'o'>, p: string,
  x: F32Tensor, out: F32Tensor, kCache: F32Tensor, vCache: F32Tensor, start: number, bufs: Pick<LayerBuffers, 'q' | 'att'>,
): void {
  const m = x.shape[0]!;
  const positions = Int32Array.from({ length: m }, (_, i) => start + i);
  const rope = { heads: cfg.heads, headDim: cfg.headDim, theta: cfg.ropeTheta, positions };
  const { q, att } = bufs;
  const k = rows(kCache, start, start + m);
  const v = rows(vCache, start, start + m);
  linear(be, `${p}.attn.q`, q, x, l.q);
  linear(be, `${p}.attn.k`, k, x, l.k);
  linear(be, `${p}.attn.v`, v, x, l.v);
  run(be, 'rope', `${p}.attn.q_rope`, { x: q, ...rope });
  run(be, 'rope', `${p}.attn.k_rope`, { x: k, ...rope, heads: cfg.kvHeads });
  run(be, 'attention', `${p}.attn.core`, {
    out: att, q, k: kCache, v: vCache, kvLen: start + m, qStart: start,
    heads: cfg.heads, kvHeads: cfg.kvHeads, headDim: cfg.headDim, causal: true, scale: 1 / Math.sqrt(cfg.headDim),
  });
  linear(be, `${p}.attn.out`, out, att, l.o);
}

/** The MLP: out (m, d) = down(silu(gate(x))·up(x)) for x (m, d). */
export function mlpBlock(
  be: Backend, l: Pick<LlamaLayer, 'gate' | 'up' | 'down'>, p: string, x: F32Tensor, out: F32Tensor, bufs: Pick<LayerBuffers, 'gate' | 'up'>,
): void {
  const { gate, up } = bufs;
  linear(be, `${p}.mlp.gate`, gate, x, l.gate);
  linear(be, `${p}.mlp.up`, up, x, l.up);
  run(be, 'silu_mul', `${p}.mlp.act`, { out: gate, gate, up });
  linear(be, `${p}.mlp.down`, out, gate, l.down);
}

/** One decoder layer, in place on the hidden states h (m, d) at positions [start, start + m). */
export function decoderLayer(
  be: Backend, cfg: LlamaConfig, l: LlamaLayer, p: string, h: F32Tensor, kCache: F32Tensor, vCache: F32Tensor, start: number, bufs: LayerBuffers,
): void {
  const eps = cfg.rmsNormEps;
  const { x, proj } = bufs;
  run(be, 'rms_norm', `${p}.input_norm`, { out: x, x: h, weight: l.inputNorm, eps });
  attentionBlock(be, cfg, l, p, x, proj, kCache, vCache, start, bufs);
  run(be, 'add', `${p}.attn.residual`, { out: h, a: h, b: proj });
  run(be, 'rms_norm', `${p}.post_norm`, { out: x, x: h, weight: l.postNorm, eps });
  mlpBlock(be, l, p, x, proj, bufs);
  run(be, 'add', `${p}.out`, { out: h, a: h, b: proj });
}
