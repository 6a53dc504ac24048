// Writes a VILA 1.5 folder (real layout: config.json, llm/ in two shards with an index,
// vision_tower/, mm_projector/) with random bf16 weights of a given shape. Values are uniform
// with the standard deviation of a 1/√fan_in initialisation, so activations stay O(1). The
// tensors are produced one at a time while writing, so a 6 GB folder never sits in memory.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TwinShape } from '../model/shapes.js';
import { seededRandom } from '../sampling.js';
import { f32ToBf16, numel, type Tensor } from '../tensor.js';
import { writeSafetensors, type TensorSpec } from './safetensors_write.js';

type Entry = { spec: TensorSpec; get: () => Tensor };

function randomBf16(shape: number[], std: number, mean: number, random: () => number): Entry {
  return {
    spec: { dtype: 'bf16', shape },
    get: () => {
      const n = numel(shape);
      const data = new Uint16Array(n);
      const half = std * Math.sqrt(3);
      for (let i = 0; i < n; i++) data[i] = f32ToBf16(mean + (random() * 2 - 1) * half);
      return { dtype: 'bf16', shape, data };
    },
  };
}

export interface RandomCheckpointOptions {
  readonly out: string;
  readonly shape: TwinShape;
  readonly seed: number;
  /** A tokenizer folder to copy (tokenizer.model, tokenizer_config.json, special_tokens_map.json). */
  readonly tokenizerDir: string;
  readonly onProgress?: (done: number, total: number, what: string) => void;
}

export function writeRandomCheckpoint(o: RandomCheckpointOptions): void {
  const random = seededRandom(o.seed);
  const { llm, vision } = o.shape;
  const w = (shape: number[]): Entry => randomBf16(shape, 1 / Math.sqrt(shape[shape.length - 1]!), 0, random);
  const norm = (n: number): Entry => randomBf16([n], 0.05, 1, random);
  const bias = (n: number): Entry => randomBf16([n], 0.02, 0, random);
  const headDim = llm.hidden / llm.heads;

  const llmTensors = new Map<string, Entry>();
  llmTensors.set('model.embed_tokens.weight', randomBf16([llm.vocab, llm.hidden], 1, 0, random));
  for (let i = 0; i < llm.layers; i++) {
    const p = `model.layers.${i}`;
    llmTensors.set(`${p}.input_layernorm.weight`, norm(llm.hidden));
    llmTensors.set(`${p}.self_attn.q_proj.weight`, w([llm.heads * headDim, llm.hidden]));
    llmTensors.set(`${p}.self_attn.k_proj.weight`, w([llm.kvHeads * headDim, llm.hidden]));
    llmTensors.set(`${p}.self_attn.v_proj.weight`, w([llm.kvHeads * headDim, llm.hidden]));
    llmTensors.set(`${p}.self_attn.o_proj.weight`, w([llm.hidden, llm.heads * headDim]));
    llmTensors.set(`${p}.post_attention_layernorm.weight`, norm(llm.hidden));
    llmTensors.set(`${p}.mlp.gate_proj.weight`, w([llm.ffn, llm.hidden]));
    llmTensors.set(`${p}.mlp.up_proj.weight`, w([llm.ffn, llm.hidden]));
    llmTensors.set(`${p}.mlp.down_proj.weight`, w([llm.hidden, llm.ffn]));
  }
  llmTensors.set('model.norm.weight', norm(llm.hidden));
  llmTensors.set('lm_head.weight', w([llm.vocab, llm.hidden]));

  const d = vision.hidden;
  const grid = Math.floor(vision.image / vision.patch);
  const vt = new Map<string, Entry>();
  const vp = 'vision_model.';
  vt.set(`${vp}embeddings.patch_embedding.weight`, randomBf16([d, 3, vision.patch, vision.patch], 1 / Math.sqrt(3 * vision.patch ** 2), 0, random));
  vt.set(`${vp}embeddings.patch_embedding.bias`, bias(d));
  vt.set(`${vp}embeddings.position_embedding.weight`, randomBf16([grid * grid, d], 0.1, 0, random));
  for (let i = 0; i < vision.layers; i++) {
    const p = `${vp}encoder.layers.${i}`;
    for (const n of ['layer_norm1', 'layer_norm2']) {
      vt.set(`${p}.${n}.weight`, norm(d));
      vt.set(`${p}.${n}.bias`, bias(d));
    }
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      vt.set(`${p}.self_attn.${n}.weight`, w([d, d]));
      vt.set(`${p}.self_attn.${n}.bias`, bias(d));
    }
    vt.set(`${p}.mlp.fc1.weight`, w([vision.ffn, d]));
    vt.set(`${p}.mlp.fc1.bias`, bias(vision.ffn));
    vt.set(`${p}.mlp.fc2.weight`, w([d, vision.ffn]));
    vt.set(`${p}.mlp.fc2.bias`, bias(d));
  }
  vt.set(`${vp}post_layernorm.weight`, norm(d));
  vt.set(`${vp}post_layernorm.bias`, bias(d));

  const pj = new Map<string, Entry>([
    ['layers.1.weight', norm(4 * d)],
    ['layers.1.bias', bias(4 * d)],
    ['layers.2.weight', w([llm.hidden, 4 * d])],
    ['layers.2.bias', bias(llm.hidden)],
    ['layers.4.weight', w([llm.hidden, llm.hidden])],
    ['layers.4.bias', bias(llm.hidden)],
  ]);

  const dirs = ['llm', 'vision_tower', 'mm_projector'].map((s) => join(o.out, s));
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
  writeConfigs(o);
  const total = [llmTensors, vt, pj].reduce((a, m) => a + m.size, 0);
  let done = 0;
  const progressed = (m: Map<string, Entry>): Map<string, Entry> =>
    new Map(
      [...m].map(([k, e]) => [k, { spec: e.spec, get: () => {
        const t = e.get();
        o.onProgress?.(++done, total, k);
        return t;
      } }] as const),
    );
  // Two shards, split by layer index as HF does, plus the index file.
  const names = [...llmTensors.keys()];
  const firstHalf = new Set(names.filter((n) => {
    const m = /^model\.layers\.(\d+)\./.exec(n);
    return n === 'model.embed_tokens.weight' || (m !== null && Number(m[1]) < llm.layers / 2);
  }));
  const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  for (const n of names) weightMap[n] = shardNames[firstHalf.has(n) ? 0 : 1]!;
  const llmP = progressed(llmTensors);
  shardNames.forEach((file, s) => {
    writeSafetensors(join(o.out, 'llm', file), new Map([...llmP].filter(([n]) => firstHalf.has(n) === (s === 0))));
  });
  const totalSize = [...llmTensors.values()].reduce((a, e) => a + numel(e.spec.shape) * 2, 0);
  writeFileSync(join(o.out, 'llm', 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2));
  writeSafetensors(join(o.out, 'vision_tower', 'model.safetensors'), progressed(vt));
  writeSafetensors(join(o.out, 'mm_projector', 'model.safetensors'), progressed(pj));
  for (const f of ['tokenizer.model', 'tokenizer_config.json', 'special_tokens_map.json']) {
    copyFileSync(join(o.tokenizerDir, f), join(o.out, 'llm', f));
  }
}

function writeConfigs(o: RandomCheckpointOptions): void {
  const { llm, vision } = o.shape;
  const json = (path: string, v: unknown): void => writeFileSync(join(o.out, path), JSON.stringify(v, null, 2) + '\n');
  const llmCfg = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu', hidden_size: llm.hidden,
    intermediate_size: llm.ffn, num_attention_heads: llm.heads, num_hidden_layers: llm.layers, num_key_value_heads: llm.kvHeads,
    vocab_size: llm.vocab, rms_norm_eps: 1e-5, rope_theta: llm.ropeTheta, rope_scaling: null, max_position_embeddings: llm.maxPositions,
    tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2, pad_token_id: 0, torch_dtype: 'bfloat16',
    model_max_length: llm.maxPositions, tokenizer_model_max_length: llm.maxPositions, transformers_version: '4.36.2',
  };
  const visionCfg = {
    architectures: ['SiglipVisionModel'], model_type: 'siglip_vision_model', hidden_act: 'gelu_pytorch_tanh', hidden_size: vision.hidden,
    intermediate_size: vision.ffn, num_hidden_layers: vision.layers, num_attention_heads: vision.heads, patch_size: vision.patch,
    image_size: vision.image, num_channels: 3, layer_norm_eps: 1e-6, torch_dtype: 'bfloat16', transformers_version: '4.36.2',
  };
  const projCfg = { architectures: ['MultimodalProjector'], mm_projector_type: 'mlp_downsample', model_type: 'v2l_projector', torch_dtype: 'bfloat16' };
  json('config.json', {
    architectures: ['LlavaLlamaModel'], model_type: 'llava_llama', hidden_size: llm.hidden, mm_hidden_size: vision.hidden,
    image_aspect_ratio: 'resize', mm_vision_select_layer: -2, mm_vision_select_feature: 'cls_patch', mm_use_im_start_end: false,
    mm_use_im_patch_token: false, num_video_frames: 8, s2: false, llm_cfg: llmCfg, vision_tower_cfg: visionCfg, mm_projector_cfg: projCfg,
    model_dtype: 'torch.bfloat16', transformers_version: '4.36.2',
  });
  json('trainer_state.json', { note: 'random-weight shape twin written by vila-ts; no training' });
  json('llm/config.json', llmCfg);
  json('llm/generation_config.json', { bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 });
  json('vision_tower/config.json', visionCfg);
  json('vision_tower/preprocessor_config.json', {
    do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
    image_processor_type: 'SiglipImageProcessor', resample: 3, rescale_factor: 1 / 255, size: { height: vision.image, width: vision.image },
  });
  json('mm_projector/config.json', projCfg);
}
