// One entry for either vision tower (llava/model/multimodal_encoder/builder.py picks the class by
// vision_tower/config.json architectures[0]): SigLIP (siglip.ts) or InternViT (intern_vit.ts).
// Their key prefixes differ: SiglipVisionModel keeps "vision_model.", InternVisionModel none.

import type { Backend } from '../backend.js';
import { InputError } from '../errors.js';
import type { F32Tensor } from '../tensor.js';
import type { WeightBinder } from './binder.js';
import type { VisionSelect, VisionTowerConfig } from './config.js';
import { internGrid, internTokens, internVitForward, internVitUnused, loadInternVit, type InternVitWeights } from './intern_vit.js';
import { loadSiglip, siglipForward, siglipGrid, siglipUnused, type SiglipWeights } from './siglip.js';

export type VisionTowerWeights = SiglipWeights | InternVitWeights;

/** Prefix of the tower's keys in vision_tower/model.safetensors. */
export const visionKeyPrefix = (cfg: VisionTowerConfig): string => (cfg.kind === 'intern' ? '' : 'vision_model.');

export function visionUnused(cfg: VisionTowerConfig, select: VisionSelect): (key: string) => boolean {
  return cfg.kind === 'intern' ? internVitUnused(select) : siglipUnused(select);
}

export function loadVisionTower(b: WeightBinder, cfg: VisionTowerConfig, select: VisionSelect): VisionTowerWeights {
  return cfg.kind === 'intern' ? loadInternVit(b, cfg, select) : loadSiglip(b, cfg, select);
}

/** Side of the tower's patch grid (CLS, if any, not included). */
export const visionGrid = (cfg: VisionTowerConfig): number => (cfg.kind === 'intern' ? internGrid(cfg) : siglipGrid(cfg));

/** Rows of the tower's features after feature selection ('patch' drops token 0). */
export function visionFeatureTokens(cfg: VisionTowerConfig, select: VisionSelect): number {
  const all = cfg.kind === 'intern' ? internTokens(cfg) : siglipGrid(cfg) ** 2;
  return all - (select.feature === 'patch' ? 1 : 0);
}

const isIntern = (w: VisionTowerWeights): w is InternVitWeights => 'kind' in w && w.kind === 'intern';

/** pixels (3, S, S) → features (tokens, d). */
export function visionForward(be: Backend, cfg: VisionTowerConfig, w: VisionTowerWeights, select: VisionSelect, pixels: F32Tensor, name: string): F32Tensor {
  if (cfg.kind === 'intern') {
    if (!isIntern(w)) throw new InputError(`the vision tower config (${cfg.file}) is InternViT but the weights are SigLIP's`);
    return internVitForward(be, cfg, w, select, pixels, name);
  }
  if (isIntern(w)) throw new InputError(`the vision tower config (${cfg.file}) is SigLIP but the weights are InternViT's`);
  return siglipForward(be, cfg, w, select, pixels, name);
}
