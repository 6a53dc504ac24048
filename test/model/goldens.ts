// Shared helpers for whole-model golden tests: reading a fixture's expected.json and comparing.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

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
