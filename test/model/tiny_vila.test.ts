// Whole-model goldens: the committed tiny checkpoints (real VILA layout: two LLM shards, odd
// vision grid, GQA, pad aspect, ...) through the TypeScript reference runtime, against logits
// and greedy ids from the independent PyTorch implementation in tools/vila_torch.py.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model.js';
import { imagePaths, readGolden, relL2 } from './goldens.js';

const fixtures = join(import.meta.dirname, '../fixtures');

for (const name of ['tiny-vila', 'tiny-vila-pad']) {
  describe(`${name}: ref backend vs PyTorch goldens`, async () => {
    const expectedFile = join(fixtures, name, 'expected.json');
    const golden = readGolden(expectedFile);
    const model = await Model.load(join(fixtures, name));

    for (const c of golden.cases) {
      it(`${c.name}: input ids exact, logits within 1e-4, greedy ids equal`, async () => {
        const req = { prompt: c.prompt, images: imagePaths(expectedFile, c), raw: c.raw };
        const { inputIds, logits } = await model.logits(req);
        expect(inputIds).toEqual(c.input_ids);
        const err = relL2(logits, c.logits);
        expect(err).toBeLessThan(1e-4);
        const r = await model.generate({ ...req, maxNewTokens: c.greedy_ids.length, sampling: { temperature: 0 } });
        expect(r.outputIds).toEqual(c.greedy_ids);
      });
    }
  });
}
