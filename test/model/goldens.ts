// Shared helpers for whole-model golden tests: reading a fixture's expected.json and comparing.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { expect, it } from 'vitest';
import type { Model } from '../../src/model.js';
import { relL2 as relL2Of } from '../../src/compare.js';

export interface GoldenCase {
  name: string;
  prompt: string;
  raw: boolean;
  images: string[];
  input_ids: number[];
  logits: number[];
  greedy_ids: number[];
  greedy_min_margin: number;
  spliced_length: number;
}

export interface Golden {
  cases: GoldenCase[];
}

export function readGolden(path: string): Golden {
  return JSON.parse(readFileSync(path, 'utf8')) as Golden;
}

/** Image paths of a case, resolved against the folder holding its cases/expected file. */
export function imagePaths(expectedFile: string, c: GoldenCase): string[] {
  return c.images.map((p) => (isAbsolute(p) ? p : join(dirname(expectedFile), p)));
}

export { relL2 } from '../../src/compare.js';

/** The part of a greedy sequence up to and including the first EOS (generation stops there). */
export function untilEos(ids: readonly number[], eos: number): number[] {
  const at = ids.indexOf(eos);
  return at < 0 ? [...ids] : ids.slice(0, at + 1);
}

/**
 * One test per golden case: input ids exact, logits within `tolerance` relative L2 (a float32
 * reimplementation lands near 1e-6, tools/make_goldens.py; 1e-5 tells the projector's erf GELU
 * from the tanh one, 4.6e-5 on tiny-vila-mlp2x), greedy ids equal.
 */
export function itMatchesGoldenCases(model: Model, expectedFile: string, cases: readonly GoldenCase[], tolerance = 1e-5): void {
  for (const c of cases) {
    it(`${c.name}: input ids exact, logits within ${tolerance}, greedy ids equal`, async () => {
      const req = { prompt: c.prompt, images: imagePaths(expectedFile, c), raw: c.raw };
      const { inputIds, logits } = await model.logits(req);
      expect(inputIds).toEqual(c.input_ids);
      expect(relL2Of(c.logits, logits)).toBeLessThan(tolerance);
      const r = await model.generate({ ...req, maxNewTokens: c.greedy_ids.length, sampling: { temperature: 0 } });
      expect(r.outputIds).toEqual(c.greedy_ids);
    });
  }
}
