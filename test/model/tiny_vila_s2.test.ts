// S2 multi-scale features (VILA1.5-3b-s2) on tiny random checkpoints, against the independent
// PyTorch implementation (tools/vila_torch.py s2_vision, identical to upstream s2wrapper's forward):
//   tiny-vila-s2    scales 1x,2x of the split size: 1 + 4 crops, 7×7 tokens each, 2×2 area means
//   tiny-vila-s2x3  s2_scales written "3x,1x,2x" (sorted upstream): 1 + 4 + 9 crops, 3×3 means, pad
// Every projected value within 1e-3 relative L2 (the bicubic resize is within a few ulp of torch's),
// input ids exact, logits within 1e-5, greedy ids equal; ref and wasm backends. Config errors name
// the S2 field at fault.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Model } from '../../src/model.js';
import { loadVilaConfig } from '../../src/model/config.js';
import { imagePaths, readGolden, relL2, itMatchesGoldenCases } from './goldens.js';

const fixtures = join(import.meta.dirname, '../fixtures');

interface S2Golden {
  cases: { name: string; images: string[]; debug: { images: { projector_out: number[]; projector_out_shape: number[] }[] } }[];
}

const BACKENDS = [
  { label: 'ref', backend: 'ref' },
  { label: 'wasm, 2 threads', backend: 'wasm', threads: 2 },
] as const;

for (const name of ['tiny-vila-s2', 'tiny-vila-s2x3']) for (const b of BACKENDS) {
  describe(`${name}: ${b.label} backend vs PyTorch goldens`, async () => {
    const expectedFile = join(fixtures, name, 'expected.json');
    const golden = readGolden(expectedFile);
    const debug = JSON.parse(readFileSync(expectedFile, 'utf8')) as S2Golden;
    const model = await Model.load(join(fixtures, name), b);

    it('projected image features within 1e-3 relative L2', async () => {
      const c = debug.cases.find((k) => k.images.length === 2)!;
      const pixels = await model.loadImages(imagePaths(expectedFile, { ...golden.cases[0]!, images: c.images }));
      pixels.forEach((p, i) => {
        const want = c.debug.images[i]!;
        const got = model.weights.encodeImage(model.backend, p);
        expect(got.shape).toEqual(want.projector_out_shape);
        expect(relL2(want.projector_out, got.data)).toBeLessThan(1e-3);
      });
    });

    itMatchesGoldenCases(model, expectedFile, golden.cases);
  });
}

describe('S2 config', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vila-s2-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const src = join(fixtures, 'tiny-vila-s2');
  const top = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;

  it('reads scales sorted, the split size and the image size of the largest scale', async () => {
    expect(loadVilaConfig(join(fixtures, 'tiny-vila-s2x3')).s2).toEqual({ scales: [37, 74, 111], maxSplitSize: 37 });
    const m = await Model.load(src, { backend: 'ref' });
    expect(m.weights.imageSize).toBe(86);
    expect(m.imageConfig?.size).toEqual({ height: 86, width: 86 });
    expect(m.weights.tokensPerImage).toBe(16);
    expect(loadVilaConfig(join(fixtures, 'tiny-vila')).s2).toBeUndefined();
  });

  const broken: [string, Record<string, unknown>, RegExp][] = [
    ['a scale not a multiple of the split size', { s2_scales: '43,80' }, /field 's2_scales'.*80 is not a multiple of s2_max_split_size 43/],
    ['scales that are not integers', { s2_scales: '43,8.6e1' }, /field 's2_scales'.*positive integers/],
    ['a split size other than the tower image size', { s2_max_split_size: 86, s2_scales: '86,172' }, /field 's2_max_split_size'.*43x43/],
    ['mm_hidden_size not hidden x scales', { mm_hidden_size: 20 }, /field 'mm_hidden_size'.*20 x 2 scales = 40/],
    ["'patch' features (no square grid)", { mm_vision_select_feature: 'patch' }, /field 'mm_vision_select_feature'/],
    ['s2 scales missing', { s2_scales: undefined }, /field 's2_scales' must be a string/],
  ];
  for (const [what, change, message] of broken) {
    it(`ConfigError naming the field: ${what}`, () => {
      const dir = join(tmp, what.replace(/\W+/g, '_'));
      cpSync(src, dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...top, ...change }));
      expect(() => loadVilaConfig(dir)).toThrow(ConfigError);
      expect(() => loadVilaConfig(dir)).toThrow(message);
    });
  }
});
