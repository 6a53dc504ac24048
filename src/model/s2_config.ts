// The S2 fields of a VILA folder's top-level config.json (VILA1.5-3b-s2: "s2": true,
// "s2_scales": "384,768", "s2_max_split_size": 384), read as upstream does:
//   llava/model/multimodal_encoder/builder.py (vila1.5): VisionTowerS2 only for CLIP/SigLIP towers,
//     mm_hidden_size = tower hidden size × number of scales
//   llava/model/multimodal_encoder/vision_encoder.py VisionTowerS2.__init__: scales =
//     sorted(map(int, s2_scales.split(","))), max_split_size = s2_max_split_size
// What upstream could not run fails here with the field named: scales that are not multiples of
// the split size (s2wrapper's split_chessboard asserts), a split size other than the tower's
// image_size (SigLIP's position table is for that size), a token count that is not a square.

import type { Fields } from '../io/json.js';
import type { VisionTowerConfig } from './config.js';

export interface S2Config {
  /** s2_scales in ascending order (VisionTowerS2 sorts them); each a multiple of maxSplitSize. */
  readonly scales: readonly number[];
  /** Side of each crop the tower sees (= its image_size). */
  readonly maxSplitSize: number;
}

/** undefined when `s2` is false or absent (VILA1.5-3b keeps unused s2_scales defaults). */
export function parseS2Config(top: Fields, vision: VisionTowerConfig, feature: 'patch' | 'cls_patch'): S2Config | undefined {
  if (!top.bool('s2', false)) return undefined;
  if (vision.kind !== 'siglip') top.unsupported('s2', `upstream has S2 for SigLIP and CLIP towers only, not ${vision.kind} (${vision.file})`);
  const text = top.string('s2_scales');
  const parts = text.split(',').map((s) => s.trim());
  if (!parts.every((s) => /^\d+$/.test(s) && Number(s) > 0)) top.unsupported('s2_scales', 'must be positive integers separated by commas');
  const scales = parts.map(Number).sort((a, b) => a - b);
  const split = top.positiveInt('s2_max_split_size');
  if (split !== vision.imageSize) {
    top.unsupported('s2_max_split_size', `each crop goes through the tower, which takes ${vision.imageSize}x${vision.imageSize} images (${vision.file} image_size)`);
  }
  const bad = scales.find((s) => s % split !== 0);
  if (bad !== undefined) top.unsupported('s2_scales', `scale ${bad} is not a multiple of s2_max_split_size ${split} (s2wrapper splits each scale into whole crops)`);
  if (feature === 'patch') {
    top.unsupported('mm_vision_select_feature', "S2 reshapes each crop's tokens to a square map; SigLIP with 'patch' leaves g²-1 tokens (use 'cls_patch')");
  }
  const width = vision.hiddenSize * scales.length;
  if (top.has('mm_hidden_size') && top.positiveInt('mm_hidden_size') !== width) {
    top.unsupported('mm_hidden_size', `S2 features are hidden_size ${vision.hiddenSize} x ${scales.length} scales = ${width} wide`);
  }
  return { scales, maxSplitSize: split };
}

/** Width of the features the projector takes: the tower's hidden size, × the number of S2 scales. */
export const s2FeatureWidth = (hiddenSize: number, s2: S2Config | undefined): number => hiddenSize * (s2?.scales.length ?? 1);
