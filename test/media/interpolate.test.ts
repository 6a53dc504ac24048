// F.interpolate's bicubic and area modes (src/media/interpolate.ts) against torch 1.13 CPU on
// random maps (test/fixtures/media/interpolate_torch.json from tools/interp_goldens.py): area bit
// for bit, bicubic within 4 ulp of the inputs' magnitude (torch sums in another order).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { areaResize, bicubicResize } from '../../src/media/interpolate.js';
import { f32 } from '../../src/tensor.js';

interface Case {
  mode: 'bicubic' | 'area';
  in_shape: [number, number, number];
  out_shape: [number, number, number];
  x: number[];
  expected: number[];
}

const file = join(import.meta.dirname, '../fixtures/media/interpolate_torch.json');
const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: Case[] };

/**
 * Largest |got − want| in float32 ulps of the largest input magnitude: an output is a sum of
 * products of inputs, so rounding in another order moves it by ulps of the inputs' scale.
 */
function maxUlps(got: Float32Array, want: readonly number[], x: readonly number[]): number {
  const ulp = Math.max(...x.map(Math.abs)) * 2 ** -23;
  return Math.max(...want.map((w, i) => Math.abs(got[i]! - w))) / ulp;
}

describe('interpolate vs torch F.interpolate', () => {
  for (const c of cases) {
    const [a, b, ch] = c.in_shape;
    const name = c.mode === 'bicubic' ? `bicubic (${a}, ${b}, ${ch}) → ${c.out_shape[1]}x${c.out_shape[2]}` : `area (${a}, ${b}, ${ch}) → ${c.out_shape[0]}x${c.out_shape[1]}`;
    it(name, () => {
      const x = f32(Float32Array.from(c.x), c.in_shape);
      const out = c.mode === 'bicubic' ? bicubicResize(x, c.out_shape[1], c.out_shape[2]) : areaResize(x, c.out_shape[0], c.out_shape[1]);
      expect(out.shape).toEqual(c.out_shape);
      if (c.mode === 'area') expect(Array.from(out.data)).toEqual(c.expected.map(Math.fround));
      else expect(maxUlps(out.data, c.expected, c.x)).toBeLessThanOrEqual(4);
    });
  }

  it('bicubic to the same size is a copy', () => {
    const x = f32(Float32Array.from({ length: 12 }, (_, i) => i * 0.37 - 2), [1, 3, 4]);
    const y = bicubicResize(x, 3, 4);
    expect(Array.from(y.data)).toEqual(Array.from(x.data));
    expect(y.data).not.toBe(x.data);
  });

  it('rejects bad shapes and sizes', () => {
    const x = f32(new Float32Array(4), [2, 2]);
    expect(() => bicubicResize(x, 2, 2)).toThrow(InputError);
    expect(() => areaResize(f32(new Float32Array(4), [2, 2, 1]), 0, 2)).toThrow(InputError);
  });
});
