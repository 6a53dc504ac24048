// vision_tower/config.json of an InternViT tower (VILA1.5-40b: InternViT-6B-448px, spec/vila.md §1-§2),
// read as upstream's InternVisionConfig does (NVlabs/VILA
// llava/model/multimodal_encoder/intern/configuration_intern_vit.py): absent fields take that
// class's defaults. Only what modeling_intern_vit.py computes at inference matters; dropout,
// drop_path_rate, initializer_* and use_flash_attn (the same attention, another kernel) do not.

import { Fields } from '../io/json.js';
import type { VitDims } from './config.js';

/** layerNormEps: the eps of every InternRMSNorm (norm1, norm2, q_norm, k_norm). */
export interface InternVitConfig extends VitDims {
  readonly kind: 'intern';
  /** q_norm / k_norm: RMSNorm over the full width (all heads) before the head split. */
  readonly qkNormalization: boolean;
  /** Whether the fused qkv Linear has a bias. */
  readonly qkvBias: boolean;
}

/**
 * upstream's InternVisionPreprocessor (intern_encoder.py) always resizes to 448×448 whatever the
 * config says, so a tower whose position table is for another size could not run upstream.
 */
export const INTERN_IMAGE_SIZE = 448;

export function parseInternVitConfig(file: string): InternVitConfig {
  const f = Fields.read(file);
  const arch = f.stringArray('architectures')[0] ?? '';
  if (!arch.toLowerCase().includes('intern')) f.unsupported('architectures', 'not an InternViT tower');
  // InternMLP: ACT2FN[hidden_act]; 'gelu' is the exact (erf) GELU.
  if (f.string('hidden_act', 'gelu') !== 'gelu') f.unsupported('hidden_act', "InternViT-6B's MLP uses 'gelu' (erf); other activations are not implemented");
  // Later InternViT configs (e.g. InternViT-300M) carry norm_type; VILA's InternRMSNorm is the only kind here.
  const normType = f.string('norm_type', 'rms_norm');
  if (normType !== 'rms_norm') f.unsupported('norm_type', "only 'rms_norm' (InternRMSNorm, as in InternViT-6B) is implemented");
  const channels = f.positiveInt('num_channels', 3);
  if (channels !== 3) f.unsupported('num_channels', 'InternVisionEmbeddings has a 3-channel patch convolution');
  const hiddenSize = f.positiveInt('hidden_size', 3200);
  const heads = f.positiveInt('num_attention_heads', 25);
  if (hiddenSize % heads !== 0) f.unsupported('num_attention_heads', `does not divide hidden_size ${hiddenSize}`);
  const patchSize = f.positiveInt('patch_size', 14);
  const imageSize = f.positiveInt('image_size', 224);
  if (imageSize !== INTERN_IMAGE_SIZE) {
    f.unsupported('image_size', `VILA feeds InternViT ${INTERN_IMAGE_SIZE}×${INTERN_IMAGE_SIZE} images (InternVisionPreprocessor, intern_encoder.py); the position table must match`);
  }
  if (imageSize < patchSize) f.unsupported('image_size', `smaller than patch_size ${patchSize}`);
  return {
    kind: 'intern',
    file,
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size', 12800),
    layers: f.positiveInt('num_hidden_layers', 48),
    heads,
    headDim: hiddenSize / heads,
    patchSize,
    imageSize,
    channels,
    layerNormEps: f.number('layer_norm_eps', 1e-6),
    qkNormalization: f.bool('qk_normalization', true),
    qkvBias: f.bool('qkv_bias', false),
  };
}
