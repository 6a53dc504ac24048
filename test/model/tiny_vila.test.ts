// Whole-model goldens: the committed tiny checkpoints (real VILA layout: two LLM shards, odd
// vision grid, GQA, pad aspect, ...) through the TypeScript reference runtime and the
// WebAssembly backend (2 threads), against logits and greedy ids from the independent PyTorch
// implementation in tools/vila_torch.py; and the wasm backend with 1 and 2 threads bit for bit.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model.js';
import { imagePaths, readGolden, relL2, itMatchesGoldenCases } from './goldens.js';

const fixtures = join(import.meta.dirname, '../fixtures');

const BACKENDS = [
  { label: 'ref', backend: 'ref' },
  { label: 'wasm, 2 threads', backend: 'wasm', threads: 2 },
] as const;

for (const name of ['tiny-vila', 'tiny-vila-pad', 'tiny-vila-mlp2x', 'tiny-vila-linear']) for (const b of BACKENDS) {
  describe(`${name}: ${b.label} backend vs PyTorch goldens`, async () => {
    const expectedFile = join(fixtures, name, 'expected.json');
    const golden = readGolden(expectedFile);
    const model = await Model.load(join(fixtures, name), b);

    itMatchesGoldenCases(model, expectedFile, golden.cases);
  });
}

describe('wasm backend: 1 and 2 threads give the same logits bit for bit', async () => {
  const expectedFile = join(fixtures, 'tiny-vila', 'expected.json');
  const golden = readGolden(expectedFile);
  const one = await Model.load(join(fixtures, 'tiny-vila'), { backend: 'wasm', threads: 1 });
  const two = await Model.load(join(fixtures, 'tiny-vila'), { backend: 'wasm', threads: 2 });
  for (const c of golden.cases) {
    it(c.name, async () => {
      const req = { prompt: c.prompt, images: imagePaths(expectedFile, c), raw: c.raw };
      const a = await one.logits(req);
      const b = await two.logits(req);
      expect(Buffer.from(b.logits.buffer, b.logits.byteOffset, b.logits.byteLength).equals(Buffer.from(a.logits.buffer, a.logits.byteOffset, a.logits.byteLength))).toBe(true);
    });
  }
});
