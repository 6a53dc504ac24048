// S2 multi-scale SigLIP features (VILA1.5-3b-s2), as upstream computes them:
//   NVlabs/VILA vila1.5 llava/model/multimodal_encoder/vision_encoder.py VisionTowerS2.forward →
//   bfshi/scaling_on_scales s2wrapper/core.py forward(img_sizes=scales, max_split_size,
//   resize_output_to_idx=0, num_prefix_token=0, output_shape='bnc'), utils.py split_chessboard /
//   merge_chessboard (the versions of March-April 2024; the later split_mode='resize' step is the
//   identity for scales that are multiples of the split size, which s2_config.ts requires).
//
// For one image preprocessed at the largest scale, for each scale s (ascending):
//   1. F.interpolate(x, s, mode='bicubic') in float32 (the identity at the largest scale)
//   2. split_chessboard: n × n crops of the split size (n = s / split), crop (i, j) → batch i·n + j
//   3. SigLIP per crop: hidden_states[select] → g² tokens → a g × g map (row-major tokens)
//   4. merge_chessboard: crop (i, j) back at rows i·g.., columns j·g.. → a (n·g) × (n·g) map
// then every map is area-resized to the first (smallest) scale's side and the channels are
// concatenated in scale order: (side², hidden × scales), the projector's input (mm_hidden_size).
// 384/768 on SigLIP-384: 1 + 4 crops, 27×27 and 54×54 maps, 54 → 27 is an exact 2×2 mean.

import type { Backend } from '../backend.js';
import { InputError } from '../errors.js';
import type { ImageProcessorConfig } from '../media/image.js';
import { areaResize, bicubicResize } from '../media/interpolate.js';
import { f32, type F32Tensor } from '../tensor.js';
import type { SiglipConfig, VisionSelect, VisionTowerConfig } from './config.js';
import type { S2Config } from './s2_config.js';
import { siglipForward, siglipGrid, type SiglipWeights } from './siglip.js';
import type { VisionTowerWeights } from './vision_tower.js';

/** Side of the pixel tensor S2 takes: the largest scale (the processor's size is overridden to it). */
export const s2ImageSize = (s2: S2Config): number => s2.scales[s2.scales.length - 1]!;

/**
 * siglip_encoder.py SiglipVisionTowerS2: image_processor.size height and width set to the largest
 * scale, so images are preprocessed (resized) at that size; crop_size, if any, is left as it is.
 */
export function s2ImageProcessorConfig(cfg: ImageProcessorConfig, s2: S2Config | undefined): ImageProcessorConfig {
  if (s2 === undefined) return cfg;
  const s = s2ImageSize(s2);
  return { ...cfg, size: { height: s, width: s } };
}

/** Side of the output token map: the smallest scale's merged map. */
export const s2Grid = (cfg: SiglipConfig, s2: S2Config): number => siglipGrid(cfg) * (s2.scales[0]! / s2.maxSplitSize);

/** s2Forward for the tower VilaWeights holds (S2 configs are SigLIP only: s2_config.ts). */
export function s2VisionForward(be: Backend, cfg: VisionTowerConfig, w: VisionTowerWeights, select: VisionSelect, s2: S2Config, pixels: F32Tensor, name: string): F32Tensor {
  if (cfg.kind !== 'siglip' || ('kind' in w && w.kind === 'intern')) throw new InputError(`S2 needs a SigLIP tower (${cfg.file})`);
  return s2Forward(be, cfg, w as SiglipWeights, select, s2, pixels, name);
}

/** pixels (channels, L, L), L the largest scale → features (s2Grid², hidden × scales). */
export function s2Forward(be: Backend, cfg: SiglipConfig, w: SiglipWeights, select: VisionSelect, s2: S2Config, pixels: F32Tensor, name = 'vision'): F32Tensor {
  const largest = s2ImageSize(s2);
  if (pixels.shape.length !== 3 || pixels.shape[1] !== largest || pixels.shape[2] !== largest) {
    throw new InputError(`S2 takes an image of ${largest}x${largest} (the largest scale), got shape [${pixels.shape.join(', ')}]`);
  }
  const maps = s2.scales.map((scale) => scaleMap(be, cfg, w, select, s2.maxSplitSize, bicubicResize(pixels, scale, scale), `${name}.s2_${scale}`));
  const side = s2Grid(cfg, s2);
  const d = cfg.hiddenSize;
  const width = d * maps.length;
  const out = new Float32Array(side * side * width);
  maps.forEach((m, k) => {
    const r = areaResize(m, side, side).data; // the identity for the first scale
    for (let t = 0; t < side * side; t++) out.set(r.subarray(t * d, (t + 1) * d), t * width + k * d);
  });
  return f32(out, [side * side, width]);
}

/** One scale: split into crops, SigLIP on each, merged back → map (n·g, n·g, hidden), channels last. */
function scaleMap(be: Backend, cfg: SiglipConfig, w: SiglipWeights, select: VisionSelect, split: number, image: F32Tensor, name: string): F32Tensor {
  const n = image.shape[1]! / split;
  const g = siglipGrid(cfg);
  const d = cfg.hiddenSize;
  const side = n * g;
  const map = new Float32Array(side * side * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const feats = siglipForward(be, cfg, w, select, crop(image, i * split, j * split, split), `${name}.crop${i * n + j}`);
      if (feats.shape[0] !== g * g) throw new InputError(`S2 needs ${g}x${g} tokens per crop, the tower gave ${feats.shape[0]}`);
      const data = feats.data; // read once: on a GPU backend this downloads the buffer
      for (let r = 0; r < g; r++) map.set(data.subarray(r * g * d, (r + 1) * g * d), ((i * g + r) * side + j * g) * d);
    }
  }
  return f32(map, [side, side, d]);
}

/** The size × size square at (top, left) of x (c, h, w). */
function crop(x: F32Tensor, top: number, left: number, size: number): F32Tensor {
  const [c, h, w] = x.shape as [number, number, number];
  if (top + size > h || left + size > w) throw new InputError(`crop at (${top}, ${left}) of ${size} exceeds ${h}x${w}`);
  if (top === 0 && left === 0 && size === h && size === w) return x;
  const out = new Float32Array(c * size * size);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < size; y++) {
      const from = (ch * h + top + y) * w + left;
      out.set(x.data.subarray(from, from + size), (ch * size + y) * size);
    }
  }
  return f32(out, [c, size, size]);
}
