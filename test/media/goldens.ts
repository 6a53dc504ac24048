// Goldens written by tools/image_goldens.py (Pillow 9.4.0 + numpy): sha256 of the exact output bytes
// and the values at a few fixed indexes, so a mismatch reports how many samples differ and where.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/media/', import.meta.url));

export interface Summary {
  sha256: string;
  n: number;
  samples: number[];
}

export interface ImageGolden {
  mode: string;
  width: number;
  height: number;
  decode: Summary;
  composite_white?: Summary;
  exif_transpose?: Summary & { width: number; height: number };
}

export interface ResizeGolden extends Summary {
  image: string;
  width: number;
  height: number;
  filter: string;
  box?: [number, number, number, number];
}

export interface PadGolden extends Summary {
  image: string;
  fill: [number, number, number];
  width: number;
  height: number;
}

export interface TensorGolden extends Summary {
  image: string;
  config: string;
  aspect: 'resize' | 'pad';
  shape: number[];
}

export interface Goldens {
  samples: number;
  generator: Record<string, string>;
  images: Record<string, ImageGolden>;
  resize: ResizeGolden[];
  pad: PadGolden[];
  tensors: TensorGolden[];
}

export const goldens: Goldens = JSON.parse(readFileSync(FIXTURES + 'goldens.json', 'utf8')) as Goldens;

/** The sampled indexes: floor(i * n / k) for i < k, and n - 1, ascending without duplicates. */
export function sampleIndexes(n: number, k: number): number[] {
  const s = new Set<number>();
  for (let i = 0; i < k; i++) s.add(Math.floor((i * n) / k));
  s.add(n - 1);
  return [...s].sort((a, b) => a - b);
}

/**
 * '' when `got` is byte-identical to the golden; otherwise a description: length, how many
 * sampled values differ, and the first few as `index expected got`.
 */
export function compare(got: Uint8Array | Float32Array, exp: Summary): string {
  const bytes = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha === exp.sha256 && got.length === exp.n) return '';
  if (got.length !== exp.n) return `length ${got.length}, expected ${exp.n}`;
  const idx = sampleIndexes(exp.n, goldens.samples);
  const bad: string[] = [];
  let maxAbs = 0;
  idx.forEach((j, t) => {
    const e = exp.samples[t]!;
    const g = got[j]!;
    if (!Object.is(e, g)) {
      bad.push(`${j} ${e} ${g}`);
      maxAbs = Math.max(maxAbs, Math.abs(e - g));
    }
  });
  return `sha256 differs; ${bad.length}/${idx.length} samples differ (max |diff| ${maxAbs})${bad.length ? ': ' + bad.slice(0, 6).join(', ') : ''}`;
}
