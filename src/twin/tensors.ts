// Every tensor a published VILA 1.5 folder holds, with its name, dtype and shape, and a way to
// produce it: random values (uniform, with the standard deviation of a 1/√fan_in initialisation
// so activations stay O(1)) or `zeros` (written as holes in sparse files, for folders that are
// only inspected). Tensors are produced one at a time, when the writer asks for them.
//   llm (bf16):       HF LlamaForCausalLM names (spec §1)
//   llm (AWQ):        TinyChat v2 state dict, fp16 (spec/awq.md §2.1): qweight int16 [N/4, K],
//                     scales and scaled_zeros fp16 [Gp, N] with zero padding rows
//   SigLIP:           vision_model.* including the unused post_layernorm and pooling head
//   InternViT-6B:     embeddings.*, encoder.layers.N.{attn.qkv, attn.q_norm, attn.k_norm, attn.proj,
//                     mlp.fc1, mlp.fc2, norm1, norm2, ls1, ls2}
//   mm_projector:     mlp_downsample layers.1 (LayerNorm 4C), layers.2, layers.4 (spec §4)

import { xorshift } from '../bench/random_weights.js';
import { paddedGroups } from '../quant/q4.js';
import { f32ToBf16, f32ToF16, numel, type DType, type Tensor } from '../tensor.js';
import { mmHiddenSize, type TwinMember } from './members.js';

export interface TwinTensor {
  readonly spec: { readonly dtype: DType; readonly shape: readonly number[] };
  readonly get: () => Tensor | 'zeros';
}

export type Fill = 'random' | 'zeros';

const U32 = 2 ** -32;

export class TwinTensors {
  private serial = 0;
  constructor(
    private readonly seed: number,
    private readonly fill: Fill,
  ) {}

  /** Its own stream per tensor, so a tensor's values do not depend on which others were written. */
  private next(): () => number {
    return xorshift((this.seed * 1000003 + ++this.serial) >>> 0);
  }

  float(dtype: 'bf16' | 'f16', shape: readonly number[], std: number, mean = 0): TwinTensor {
    const random = this.next();
    const fill = this.fill;
    return {
      spec: { dtype, shape },
      get: () => {
        if (fill === 'zeros') return 'zeros';
        const n = numel(shape);
        const data = new Uint16Array(n);
        const half = std * Math.sqrt(3) * 2;
        const conv = dtype === 'bf16' ? f32ToBf16 : f32ToF16;
        for (let i = 0; i < n; i++) data[i] = conv(mean + (random() * U32 - 0.5) * half);
        return { dtype, shape, data };
      },
    };
  }

  /** TinyChat v2 int4 linear (n, k), group 128: random nibbles, q·s + sz with sz = −8·s. */
  awqLinear(base: string, n: number, k: number, out: Map<string, TwinTensor>): void {
    const G = 128;
    const gp = paddedGroups(k, G);
    const groups = k / G;
    const s = 1 / Math.sqrt(k) / 4.6; // uniform nibbles have std ≈ 4.6
    const random = this.next();
    const zeros = this.fill === 'zeros';
    out.set(`${base}.qweight`, {
      spec: { dtype: 'i16', shape: [n / 4, k] },
      get: () => {
        if (zeros) return 'zeros';
        const data = new Int16Array((n / 4) * k);
        const u32 = new Uint32Array(data.buffer);
        for (let i = 0; i < u32.length; i++) u32[i] = random();
        return { dtype: 'i16', shape: [n / 4, k], data };
      },
    });
    const table = (v: number): TwinTensor => ({
      spec: { dtype: 'f16', shape: [gp, n] },
      get: () => {
        if (zeros) return 'zeros';
        const data = new Uint16Array(gp * n);
        data.fill(f32ToF16(v), 0, groups * n); // rows groups..gp−1 stay zero padding
        return { dtype: 'f16', shape: [gp, n], data };
      },
    });
    out.set(`${base}.scales`, table(s));
    out.set(`${base}.scaled_zeros`, table(-8 * s));
  }
}

/** llm/ tensors in state-dict order: bf16 HF names, or the TinyChat AWQ state dict. */
export function llmTensors(m: TwinMember, t: TwinTensors, awq: boolean): Map<string, TwinTensor> {
  const l = m.llm;
  const dt = awq ? 'f16' : 'bf16';
  const hd = l.hidden / l.heads;
  const out = new Map<string, TwinTensor>();
  out.set('model.embed_tokens.weight', t.float(dt, [l.vocab, l.hidden], 1));
  const linear = (name: string, n: number, k: number): void => {
    if (awq) t.awqLinear(name, n, k, out);
    else out.set(`${name}.weight`, t.float('bf16', [n, k], 1 / Math.sqrt(k)));
  };
  for (let i = 0; i < l.layers; i++) {
    const p = `model.layers.${i}`;
    linear(`${p}.self_attn.q_proj`, l.heads * hd, l.hidden);
    linear(`${p}.self_attn.k_proj`, l.kvHeads * hd, l.hidden);
    linear(`${p}.self_attn.v_proj`, l.kvHeads * hd, l.hidden);
    linear(`${p}.self_attn.o_proj`, l.hidden, l.heads * hd);
    linear(`${p}.mlp.gate_proj`, l.ffn, l.hidden);
    linear(`${p}.mlp.up_proj`, l.ffn, l.hidden);
    linear(`${p}.mlp.down_proj`, l.hidden, l.ffn);
    out.set(`${p}.input_layernorm.weight`, t.float(dt, [l.hidden], 0.05, 1));
    out.set(`${p}.post_attention_layernorm.weight`, t.float(dt, [l.hidden], 0.05, 1));
  }
  out.set('model.norm.weight', t.float(dt, [l.hidden], 0.05, 1));
  out.set('lm_head.weight', t.float(dt, [l.vocab, l.hidden], 1 / Math.sqrt(l.hidden)));
  return out;
}

export function visionTensors(m: TwinMember, t: TwinTensors): Map<string, TwinTensor> {
  const v = m.tower;
  const d = v.hidden;
  const grid = Math.floor(v.image / v.patch);
  const out = new Map<string, TwinTensor>();
  const w = (n: number, k: number): TwinTensor => t.float('bf16', [n, k], 1 / Math.sqrt(k));
  const norm = (n: number): TwinTensor => t.float('bf16', [n], 0.05, 1);
  const bias = (n: number): TwinTensor => t.float('bf16', [n], 0.02);
  const patch = t.float('bf16', [d, 3, v.patch, v.patch], 1 / Math.sqrt(3 * v.patch ** 2));
  if (v.kind === 'intern') {
    out.set('embeddings.class_embedding', t.float('bf16', [1, 1, d], 1));
    out.set('embeddings.patch_embedding.weight', patch);
    out.set('embeddings.patch_embedding.bias', bias(d));
    out.set('embeddings.position_embedding', t.float('bf16', [1, grid * grid + 1, d], 0.5));
    for (let i = 0; i < v.layers; i++) {
      const p = `encoder.layers.${i}`;
      out.set(`${p}.attn.qkv.weight`, w(3 * d, d));
      out.set(`${p}.attn.q_norm.weight`, norm(d));
      out.set(`${p}.attn.k_norm.weight`, norm(d));
      out.set(`${p}.attn.proj.weight`, w(d, d));
      out.set(`${p}.attn.proj.bias`, bias(d));
      out.set(`${p}.mlp.fc1.weight`, w(v.ffn, d));
      out.set(`${p}.mlp.fc1.bias`, bias(v.ffn));
      out.set(`${p}.mlp.fc2.weight`, w(d, v.ffn));
      out.set(`${p}.mlp.fc2.bias`, bias(d));
      out.set(`${p}.norm1.weight`, norm(d));
      out.set(`${p}.norm2.weight`, norm(d));
      out.set(`${p}.ls1`, t.float('bf16', [d], 0.05, 0.1));
      out.set(`${p}.ls2`, t.float('bf16', [d], 0.05, 0.1));
    }
    return out;
  }
  const vp = 'vision_model.';
  out.set(`${vp}embeddings.patch_embedding.weight`, patch);
  out.set(`${vp}embeddings.patch_embedding.bias`, bias(d));
  out.set(`${vp}embeddings.position_embedding.weight`, t.float('bf16', [grid * grid, d], 0.1));
  const mlp = (p: string): void => {
    out.set(`${p}.mlp.fc1.weight`, w(v.ffn, d));
    out.set(`${p}.mlp.fc1.bias`, bias(v.ffn));
    out.set(`${p}.mlp.fc2.weight`, w(d, v.ffn));
    out.set(`${p}.mlp.fc2.bias`, bias(d));
  };
  for (let i = 0; i < v.layers; i++) {
    const p = `${vp}encoder.layers.${i}`;
    for (const n of ['layer_norm1', 'layer_norm2']) {
      out.set(`${p}.${n}.weight`, norm(d));
      out.set(`${p}.${n}.bias`, bias(d));
    }
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      out.set(`${p}.self_attn.${n}.weight`, w(d, d));
      out.set(`${p}.self_attn.${n}.bias`, bias(d));
    }
    mlp(p);
  }
  out.set(`${vp}post_layernorm.weight`, norm(d));
  out.set(`${vp}post_layernorm.bias`, bias(d));
  // The attention-pooling head (SiglipMultiheadAttentionPoolingHead): stored, never used by VILA.
  out.set(`${vp}head.probe`, t.float('bf16', [1, 1, d], 1));
  out.set(`${vp}head.attention.in_proj_weight`, w(3 * d, d));
  out.set(`${vp}head.attention.in_proj_bias`, bias(3 * d));
  out.set(`${vp}head.attention.out_proj.weight`, w(d, d));
  out.set(`${vp}head.attention.out_proj.bias`, bias(d));
  out.set(`${vp}head.layernorm.weight`, norm(d));
  out.set(`${vp}head.layernorm.bias`, bias(d));
  mlp(`${vp}head`);
  return out;
}

export function projectorTensors(m: TwinMember, t: TwinTensors): Map<string, TwinTensor> {
  const c4 = 4 * mmHiddenSize(m);
  const D = m.llm.hidden;
  return new Map([
    ['layers.1.weight', t.float('bf16', [c4], 0.05, 1)],
    ['layers.1.bias', t.float('bf16', [c4], 0.02)],
    ['layers.2.weight', t.float('bf16', [D, c4], 1 / Math.sqrt(c4))],
    ['layers.2.bias', t.float('bf16', [D], 0.02)],
    ['layers.4.weight', t.float('bf16', [D, D], 1 / Math.sqrt(D))],
    ['layers.4.bias', t.float('bf16', [D], 0.02)],
  ]);
}
