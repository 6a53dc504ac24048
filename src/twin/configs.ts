// The JSON files of a published VILA 1.5 folder, for a member (spec/vila.md §1): the top-level
// config.json (LlavaLlamaModel, with the embedded *_cfg dicts that upstream writes and ignores),
// llm/config.json and generation_config.json, vision_tower/config.json (+ the SigLIP
// preprocessor_config.json; InternViT's preprocessing is hard-coded upstream), and
// mm_projector/config.json. Field sets follow the 3b config in spec §1 and the tiny fixtures
// (tools/make_tiny_vila.py). The -AWQ repos keep these files as they are (llm/config.json holds no
// quantization fields: TinyChat takes w4/g128 from its command line, our loader from the tensors).

import { mmHiddenSize, type TwinMember } from './members.js';

type Json = Record<string, unknown>;

export function llmConfig(m: TwinMember): Json {
  const l = m.llm;
  return {
    _name_or_path: './llm',
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: l.bos,
    eos_token_id: l.eos,
    hidden_act: 'silu',
    hidden_size: l.hidden,
    initializer_range: 0.02,
    intermediate_size: l.ffn,
    max_position_embeddings: l.maxPositions,
    model_max_length: l.maxPositions,
    model_type: 'llama',
    num_attention_heads: l.heads,
    num_hidden_layers: l.layers,
    num_key_value_heads: l.kvHeads,
    pad_token_id: l.pad,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: null,
    rope_theta: l.ropeTheta,
    tie_word_embeddings: false,
    tokenizer_model_max_length: l.maxPositions,
    tokenizer_padding_side: 'right',
    torch_dtype: 'bfloat16',
    transformers_version: '4.36.2',
    use_cache: true,
    vocab_size: l.vocab,
  };
}

export function visionConfig(m: TwinMember): Json {
  const t = m.tower;
  if (t.kind === 'intern') {
    return {
      _name_or_path: './vision_tower', architectures: ['InternVisionModel'], attention_dropout: 0.0, drop_path_rate: 0.0, dropout: 0.0,
      hidden_act: 'gelu', hidden_size: t.hidden, image_size: t.image, initializer_factor: 0.1, initializer_range: 1e-10,
      intermediate_size: t.ffn, layer_norm_eps: 1e-6, model_type: 'intern_vit_6b', num_attention_heads: t.heads, num_channels: 3,
      num_hidden_layers: t.layers, patch_size: t.patch, qk_normalization: true, qkv_bias: false, torch_dtype: 'bfloat16',
      transformers_version: '4.36.2', use_flash_attn: true,
    };
  }
  return {
    _name_or_path: './vision_tower', architectures: ['SiglipVisionModel'], attention_dropout: 0.0, hidden_act: 'gelu_pytorch_tanh',
    hidden_size: t.hidden, image_size: t.image, intermediate_size: t.ffn, layer_norm_eps: 1e-6, model_type: 'siglip_vision_model',
    num_attention_heads: t.heads, num_channels: 3, num_hidden_layers: t.layers, patch_size: t.patch, torch_dtype: 'bfloat16',
    transformers_version: '4.36.2',
  };
}

export function preprocessorConfig(m: TwinMember): Json | undefined {
  if (m.tower.kind !== 'siglip') return undefined;
  return {
    do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_processor_type: 'SiglipImageProcessor',
    image_std: [0.5, 0.5, 0.5], processor_class: 'SiglipProcessor', resample: 3, rescale_factor: 0.00392156862745098,
    size: { height: m.tower.image, width: m.tower.image },
  };
}

export const projectorConfig = (): Json => ({
  _name_or_path: './mm_projector', architectures: ['MultimodalProjector'], mm_projector_type: 'mlp_downsample',
  model_type: 'v2l_projector', torch_dtype: 'bfloat16', transformers_version: '4.36.2',
});

export function topConfig(m: TwinMember): Json {
  const s2 = m.tower.kind === 'siglip' ? m.tower.s2 : undefined;
  return {
    _name_or_path: './vlm',
    architectures: ['LlavaLlamaModel'],
    drop_path_rate: 0.0,
    hidden_size: m.llm.hidden,
    image_aspect_ratio: 'resize',
    interpolate_mode: 'linear',
    llm_cfg: llmConfig(m),
    mm_hidden_size: mmHiddenSize(m),
    mm_projector_cfg: projectorConfig(),
    mm_projector_lr: null,
    mm_use_im_patch_token: false,
    mm_use_im_start_end: false,
    mm_vision_select_feature: m.selectFeature,
    mm_vision_select_layer: m.selectLayer,
    model_dtype: 'torch.bfloat16',
    model_type: 'llava_llama',
    num_video_frames: 8,
    resume_path: './vlm',
    s2: s2 !== undefined,
    s2_max_split_size: s2?.maxSplit ?? 336,
    s2_scales: s2?.scales.join(',') ?? '336,672,1008',
    transformers_version: '4.36.2',
    tune_language_model: true,
    tune_mm_projector: true,
    tune_vision_tower: true,
    vision_resolution: -1,
    vision_tower_cfg: visionConfig(m),
  };
}

export function generationConfig(m: TwinMember): Json {
  return { _from_model_config: true, bos_token_id: m.llm.bos, eos_token_id: m.generationEos, pad_token_id: m.llm.pad, transformers_version: '4.36.2' };
}
