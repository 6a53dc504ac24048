// The vision tower and projector of the upstream-written tinychat-awq fixture, against the
// values its producer recorded (expected.json debug_rings_png): SigLIP hidden_states[-2] and the
// mlp_downsample projector output for images/rings.png (64×64, no resize involved).

import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { WeightBinder } from '../../src/model/binder.js';
import { loadVilaConfig } from '../../src/model/config.js';
import { loadProjector, projectorForward } from '../../src/model/projector.js';
import { loadSiglip, siglipForward, siglipUnused } from '../../src/model/siglip.js';
import { openWeights } from '../../src/io/weights.js';
import { createRefBackend } from '../../src/ref/index.js';
import { f32 } from '../../src/tensor.js';
import { readFileSync } from 'node:fs';

const dir = join(import.meta.dirname, '../fixtures/tinychat-awq');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')).debug_rings_png;

async function ringsPixels(): Promise<Float32Array> {
  const { data, info } = await sharp(join(dir, 'images/rings.png')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const s = info.width;
  const out = new Float32Array(3 * s * s);
  for (let c = 0; c < 3; c++) for (let i = 0; i < s * s; i++) out[c * s * s + i] = (data[i * 3 + c]! / 255 - 0.5) / 0.5;
  return out;
}

const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);

describe('tinychat-awq fixture: SigLIP + mlp_downsample (ref backend)', () => {
  it('matches the recorded features and projector rows', async () => {
    const cfg = loadVilaConfig(dir);
    const be = createRefBackend();
    const pixels = f32(await ringsPixels(), [3, 64, 64]);
    expect(sum(pixels.data)).toBeCloseTo(expected.pixel_values_sum, 3);

    const vsrc = openWeights(cfg.visionDir!);
    const vb = new WeightBinder(vsrc, 'vision_model.');
    const vcfg = cfg.vision!;
    if (vcfg.kind !== 'siglip') throw new Error('expected a SigLIP tower');
    const tower = loadSiglip(vb, vcfg, cfg.select!);
    expect(vb.finish(siglipUnused(cfg.select!)).unknown).toEqual([]);
    const features = siglipForward(be, vcfg, tower, cfg.select!, pixels);
    expect(features.shape).toEqual(expected.vision_features_shape);
    const row = (t: Float32Array, r: number, n: number, w: number): number[] => Array.from(t.subarray(r * w, r * w + n));
    const close = (got: number[], want: number[]): void => got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 4));
    close(row(features.data, 0, 8, 96), expected['vision_features_row0[:8]']);
    close(row(features.data, 15, 8, 96), expected['vision_features_row15[:8]']);
    expect(sum(features.data)).toBeCloseTo(expected.vision_features_sum, 2);

    const psrc = openWeights(cfg.projectorDir!);
    const pb = new WeightBinder(psrc, '');
    const proj = loadProjector(pb, cfg.projector!, 96, 256);
    expect(pb.finish().unknown).toEqual([]);
    const out = projectorForward(be, proj, features);
    expect(out.shape).toEqual(expected.projector_out_shape);
    close(row(out.data, 0, 8, 256), expected['projector_out_row0[:8]']);
    close(row(out.data, 1, 8, 256), expected['projector_out_row1[:8]']);
    close(row(out.data, 3, 8, 256), expected['projector_out_row3[:8]']);
    expect(sum(out.data)).toBeCloseTo(expected.projector_out_sum, 2);
  });
});
