// vision_tower/config.json of an InternViT tower: the tower is chosen by architectures[0]
// (builder.py), InternVisionConfig's fields are read, and values the runtime (or upstream) cannot
// run are ConfigErrors naming the file and the field.

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadVilaConfig } from '../../src/model/config.js';
import { formatSummary, inspectModel } from '../../src/model/inspect.js';

const fixture = join(import.meta.dirname, '../fixtures/tiny-vila-intern');

/** A copy of the fixture's configs with `patch` applied to one of its config.json files. */
function withConfig(part: 'vision_tower' | '', patch: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vila-intern-cfg-'));
  for (const p of ['config.json', 'llm/config.json', 'vision_tower/config.json', 'mm_projector/config.json']) {
    cpSync(join(fixture, p), join(dir, p), { recursive: true });
  }
  const file = join(dir, part, 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...patch }));
  return dir;
}

describe('InternViT vision tower config', () => {
  it('reads the fixture as an InternViT tower', () => {
    const cfg = loadVilaConfig(fixture);
    expect(cfg.vision).toMatchObject({
      kind: 'intern', hiddenSize: 48, intermediateSize: 104, layers: 2, heads: 4, headDim: 12,
      patchSize: 14, imageSize: 448, channels: 3, layerNormEps: 1e-6, qkNormalization: true, qkvBias: false,
    });
    expect(cfg.select).toEqual({ layersToRun: 2, feature: 'patch' });
  });

  const bad: Array<[string, 'vision_tower' | '', Record<string, unknown>, string]> = [
    ['a tanh GELU', 'vision_tower', { hidden_act: 'gelu_pytorch_tanh' }, 'hidden_act'],
    ['LayerNorm (InternViT-300M style)', 'vision_tower', { norm_type: 'layer_norm' }, 'norm_type'],
    ['an image size other than 448', 'vision_tower', { image_size: 224 }, 'image_size'],
    ['heads not dividing the width', 'vision_tower', { num_attention_heads: 5 }, 'num_attention_heads'],
    ['a non-boolean qk_normalization', 'vision_tower', { qk_normalization: 'yes' }, 'qk_normalization'],
    ["the 'pad' aspect (no image_mean upstream)", '', { image_aspect_ratio: 'pad' }, 'image_aspect_ratio'],
    ["'cls_patch' into mlp_downsample (1 + 32² tokens)", '', { mm_vision_select_feature: 'cls_patch' }, 'mm_vision_select_feature'],
  ];
  for (const [what, part, patch, field] of bad) {
    it(`refuses ${what}, naming the file and field '${field}'`, () => {
      const dir = withConfig(part, patch);
      const file = join(dir, part, 'config.json');
      expect(() => loadVilaConfig(dir)).toThrow(ConfigError);
      expect(() => loadVilaConfig(dir)).toThrow(`${file}: field '${field}'`);
    });
  }

  it('vila inspect describes the tower as InternViT', () => {
    const text = formatSummary(inspectModel(fixture));
    expect(text).toContain(
      "vision_tower InternViT: image 448 (ImageNet mean/std), patch 14 (CLS + grid 32×32), hidden 48, 2 layers (2 used), 4 heads, FFN 104",
    );
    expect(text).toContain("q/k RMSNorm, no qkv bias, layer scale, features 'patch' (1024 tokens, CLS dropped)");
  });

  it('refuses a tower that is neither SigLIP nor InternViT', () => {
    const dir = withConfig('vision_tower', { architectures: ['CLIPVisionModel'] });
    expect(() => loadVilaConfig(dir)).toThrow(`${join(dir, 'vision_tower', 'config.json')}: field 'architectures'`);
  });
});
