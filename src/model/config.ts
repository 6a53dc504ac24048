// The VILA folder's configs as typed records. Layout (spec/vila.md §1): <root>/config.json plus
// llm/, vision_tower/, mm_projector/, each with its own config.json. As upstream
// (llava/model/llava_arch.py, get_model_config), the sub-folders are what gets loaded: their
// configs take precedence and the dicts embedded in the top-level config are not read. The
// multimodal fields (mm_vision_select_layer, image_aspect_ratio, ...) live only at the top.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { Fields } from '../io/json.js';
import { parseInternVitConfig, type InternVitConfig } from './intern_vit_config.js';
import { parseS2Config, type S2Config } from './s2_config.js';

export type { InternVitConfig } from './intern_vit_config.js';

export interface LlamaConfig {
  readonly file: string;
  readonly hiddenSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly maxPositions: number;
  /** Longest sequence the model takes: VILA's tokenizer_model_max_length, else model_max_length, else max_position_embeddings. */
  readonly maxLength: number;
  readonly tieWordEmbeddings: boolean;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  /**
   * Group size of TinyChat v2 int4 linears (spec/awq.md §2.1): from `quantization_config`
   * when present, else undefined (the loader then uses 128). It cannot be derived from the
   * tensors' shapes, since the scale tables are padded to a multiple of 8 groups.
   */
  readonly awqGroupSize?: number;
}

/** What every vision transformer tower's config gives (SigLIP, InternViT). */
export interface VitDims {
  readonly file: string;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  readonly patchSize: number;
  readonly imageSize: number;
  readonly channels: number;
  readonly layerNormEps: number;
}

export interface SiglipConfig extends VitDims {
  readonly kind: 'siglip';
}

/** The vision tower, by vision_tower/config.json architectures[0] (spec/vila.md §1). */
export type VisionTowerConfig = SiglipConfig | InternVitConfig;

export type ProjectorType = 'mlp_downsample' | 'linear' | 'identity' | { mlpGelu: number };

export interface VisionSelect {
  /** Number of encoder layers to run: hidden_states[selectLayer] is their output. */
  readonly layersToRun: number;
  /** 'patch' drops token 0 (CLS in CLIP-style towers), 'cls_patch' keeps all tokens. */
  readonly feature: 'patch' | 'cls_patch';
}

export interface VilaConfig {
  readonly root: string;
  readonly llm: LlamaConfig;
  /** Absent for a plain (text-only) Llama folder. */
  readonly vision?: VisionTowerConfig;
  readonly projector?: ProjectorType;
  readonly select?: VisionSelect;
  /** S2 multi-scale features (VILA1.5-3b-s2); absent when config.json has no "s2": true. */
  readonly s2?: S2Config;
  readonly imageAspectRatio: 'resize' | 'pad';
  readonly numVideoFrames: number;
  readonly modelMaxLength: number;
  readonly llmDir: string;
  readonly visionDir?: string;
  readonly projectorDir?: string;
}

export function parseLlamaConfig(file: string): LlamaConfig {
  const f = Fields.read(file);
  const arch = f.has('architectures') ? f.stringArray('architectures') : [];
  const type = f.string('model_type', 'llama');
  if (type !== 'llama' && !arch.some((a) => a.startsWith('Llama'))) {
    f.unsupported('model_type', 'only Llama-family decoders are supported');
  }
  if (f.string('hidden_act', 'silu') !== 'silu') f.unsupported('hidden_act', "the Llama MLP needs 'silu'");
  if (f.has('rope_scaling')) f.unsupported('rope_scaling', 'RoPE scaling is not used by VILA 1.5 and not implemented');
  if (f.bool('attention_bias', false)) f.unsupported('attention_bias', 'attention biases are not used by Llama VILA 1.5');
  const hiddenSize = f.positiveInt('hidden_size');
  const heads = f.positiveInt('num_attention_heads');
  const kvHeads = f.positiveInt('num_key_value_heads', heads);
  if (hiddenSize % heads !== 0) f.unsupported('num_attention_heads', `does not divide hidden_size ${hiddenSize}`);
  if (heads % kvHeads !== 0) f.unsupported('num_key_value_heads', `does not divide num_attention_heads ${heads}`);
  const headDim = hiddenSize / heads;
  if (headDim % 2 !== 0) f.unsupported('num_attention_heads', `head dim ${headDim} must be even for RoPE`);
  const maxPositions = f.positiveInt('max_position_embeddings', 2048);
  const optionalId = (field: string): number | undefined => (f.has(field) ? f.int(field) : undefined);
  return {
    file,
    hiddenSize,
    layers: f.positiveInt('num_hidden_layers'),
    heads,
    kvHeads,
    headDim,
    intermediateSize: f.positiveInt('intermediate_size'),
    vocabSize: f.positiveInt('vocab_size'),
    rmsNormEps: f.number('rms_norm_eps', 1e-6),
    ropeTheta: f.number('rope_theta', 10000),
    maxPositions,
    maxLength: f.positiveInt('tokenizer_model_max_length', f.positiveInt('model_max_length', maxPositions)),
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    bosTokenId: optionalId('bos_token_id'),
    eosTokenId: optionalId('eos_token_id'),
    ...awqGroupSizeOf(f),
  };
}

/** `quantization_config.group_size` (HF spelling) or `.q_group_size` (llm-awq's), if given. */
function awqGroupSizeOf(f: Fields): { awqGroupSize?: number } {
  const q = f.obj['quantization_config'];
  if (q === undefined || q === null) return {};
  if (typeof q !== 'object' || Array.isArray(q)) f.unsupported('quantization_config', 'is not an object');
  const qf = new Fields(f.file, q as Record<string, unknown>);
  const field = qf.has('group_size') ? 'group_size' : qf.has('q_group_size') ? 'q_group_size' : undefined;
  if (field === undefined) return {};
  const g = qf.int(field);
  if (g <= 0) throw new ConfigError(`field 'quantization_config.${field}' = ${g}: the group size must be positive (per-channel -1 is not supported for TinyChat v2)`, f.file);
  return { awqGroupSize: g };
}

export function parseSiglipConfig(file: string): SiglipConfig {
  const f = Fields.read(file);
  const arch = f.stringArray('architectures')[0] ?? '';
  if (!arch.toLowerCase().includes('siglip')) {
    f.unsupported('architectures', "expected a SigLIP or InternViT vision tower (architectures[0] containing 'siglip' or 'intern')");
  }
  const act = f.string('hidden_act', 'gelu_pytorch_tanh');
  if (act !== 'gelu_pytorch_tanh') f.unsupported('hidden_act', "SigLIP's MLP uses 'gelu_pytorch_tanh'");
  const hiddenSize = f.positiveInt('hidden_size');
  const heads = f.positiveInt('num_attention_heads');
  if (hiddenSize % heads !== 0) f.unsupported('num_attention_heads', `does not divide hidden_size ${hiddenSize}`);
  const patchSize = f.positiveInt('patch_size');
  const imageSize = f.positiveInt('image_size');
  if (imageSize < patchSize) f.unsupported('image_size', `smaller than patch_size ${patchSize}`);
  return {
    kind: 'siglip',
    file,
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size'),
    layers: f.positiveInt('num_hidden_layers'),
    heads,
    headDim: hiddenSize / heads,
    patchSize,
    imageSize,
    channels: f.positiveInt('num_channels', 3),
    layerNormEps: f.number('layer_norm_eps', 1e-6),
  };
}

function parseProjectorType(file: string): ProjectorType {
  const f = Fields.read(file);
  const type = f.string('mm_projector_type');
  if (type === 'mlp_downsample' || type === 'linear' || type === 'identity') return type;
  const m = /^mlp(\d+)x_gelu$/.exec(type);
  if (m !== null) return { mlpGelu: Number(m[1]) };
  return f.unsupported('mm_projector_type', "expected 'mlp_downsample', 'linear', 'mlpNx_gelu' or 'identity'");
}

/** hidden_states[k] of an encoder with n layers is the output of layer k-1 (index 0 = embeddings). */
function parseSelect(top: Fields, vision: VisionTowerConfig): VisionSelect {
  const layer = top.int('mm_vision_select_layer', -2);
  const index = layer < 0 ? vision.layers + 1 + layer : layer;
  if (index < 0 || index > vision.layers) {
    top.unsupported('mm_vision_select_layer', `out of range for a tower of ${vision.layers} layers`);
  }
  return { layersToRun: index, feature: top.oneOf('mm_vision_select_feature', ['patch', 'cls_patch'], 'patch') };
}

/** llava/model/multimodal_encoder/builder.py: the tower class from architectures[0].lower(). */
function parseVisionTowerConfig(file: string): VisionTowerConfig {
  const arch = (Fields.read(file).stringArray('architectures')[0] ?? '').toLowerCase();
  return arch.includes('intern') ? parseInternVitConfig(file) : parseSiglipConfig(file);
}

/** What upstream cannot run with an InternViT tower fails here, before any weight is read. */
function checkInternFit(top: Fields, aspect: 'resize' | 'pad', projector: ProjectorType): void {
  // mm_utils.py process_image 'pad' reads processor.image_mean, which InternVisionPreprocessor lacks.
  if (aspect === 'pad') top.unsupported('image_aspect_ratio', "upstream's InternViT preprocessor has no image_mean for the 'pad' colour; only 'resize' runs");
  // DownSampleBlock needs a square token grid: CLS + 32×32 is not one.
  if (projector === 'mlp_downsample' && top.string('mm_vision_select_feature', 'patch') === 'cls_patch') {
    top.unsupported('mm_vision_select_feature', "InternViT's CLS token makes 1 + g² tokens, not a square grid for mlp_downsample; use 'patch'");
  }
}

const isMultimodal = (arch: string[]): boolean => arch.some((a) => a.toLowerCase().includes('llava'));

/** Read the configs of a VILA folder (or of a plain Llama folder, text only). */
export function loadVilaConfig(root: string): VilaConfig {
  const topFile = join(root, 'config.json');
  if (!existsSync(root)) throw new ConfigError('model folder does not exist', root);
  const top = Fields.read(topFile);
  const arch = top.has('architectures') ? top.stringArray('architectures') : [];
  if (!isMultimodal(arch)) {
    const llm = parseLlamaConfig(topFile);
    return { root, llm, llmDir: root, imageAspectRatio: 'resize', numVideoFrames: 8, modelMaxLength: llm.maxLength };
  }
  const sub = (name: string): string => {
    const dir = join(root, name);
    if (!existsSync(join(dir, 'config.json'))) {
      throw new ConfigError(`the VILA layout needs ${name}/config.json (the embedded ${name}_cfg is not used, as upstream)`, root);
    }
    return dir;
  };
  const llmDir = sub('llm');
  const visionDir = sub('vision_tower');
  const projectorDir = sub('mm_projector');
  const llm = parseLlamaConfig(join(llmDir, 'config.json'));
  const vision = parseVisionTowerConfig(join(visionDir, 'config.json'));
  const projector = parseProjectorType(join(projectorDir, 'config.json'));
  if (top.bool('mm_use_im_start_end', false)) top.unsupported('mm_use_im_start_end', 'image start/end tokens are not used by VILA 1.5');
  const imageAspectRatio = top.oneOf('image_aspect_ratio', ['resize', 'pad'], 'resize');
  if (vision.kind === 'intern') checkInternFit(top, imageAspectRatio, projector);
  const select = parseSelect(top, vision);
  const s2 = parseS2Config(top, vision, select.feature);
  return {
    root,
    llm,
    vision,
    projector,
    select,
    ...(s2 === undefined ? {} : { s2 }),
    imageAspectRatio,
    numVideoFrames: top.positiveInt('num_video_frames', 8),
    modelMaxLength: llm.maxLength,
    llmDir,
    visionDir,
    projectorDir,
  };
}
