// The Resample.c port against Pillow 9.4.0's Image.resize (tools/image_goldens.py), byte for byte:
// the S x S bicubic resize of upstream's 'resize' branch for every fixture, and every filter at
// up- and down-scales, non-square targets, fractional boxes and single-pass cases for four images.

import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { decodeImage, type RGBImage } from '../../src/media/decode.js';
import { resize, Resampling, type ResamplingFilter } from '../../src/media/resample.js';
import { compare, FIXTURES, goldens, type ResizeGolden } from './goldens.js';

const decoded = new Map<string, RGBImage>();
beforeAll(async () => {
  for (const name of Object.keys(goldens.images)) decoded.set(name, await decodeImage(FIXTURES + name));
});

function label(g: ResizeGolden): string {
  return `${g.image} -> ${g.width}x${g.height} ${g.filter}${g.box ? ` box [${g.box.join(', ')}]` : ''}`;
}

describe('resize matches PIL Image.resize byte for byte', () => {
  const byFilter = new Map<string, ResizeGolden[]>();
  for (const g of goldens.resize) byFilter.set(g.filter, [...(byFilter.get(g.filter) ?? []), g]);
  for (const [filter, cases] of byFilter) {
    it(`${filter}: ${cases.length} cases`, () => {
      const failures: string[] = [];
      for (const g of cases) {
        const src = decoded.get(g.image)!;
        const f = Resampling[filter as keyof typeof Resampling] as ResamplingFilter;
        const out = resize(src, g.width, g.height, f, g.box);
        const why = [out.width, out.height].join('x') !== `${g.width}x${g.height}` ? 'wrong size' : compare(out.data, g);
        if (why) failures.push(`${label(g)}: ${why}`);
      }
      expect(failures).toEqual([]);
    });
  }
});

describe('resize edge cases', () => {
  const img = { width: 5, height: 3, channels: 3, data: Uint8Array.from({ length: 45 }, (_, i) => (i * 37) % 256) };
  it('same size is a copy, not a view', () => {
    const out = resize(img, 5, 3);
    expect(out.data).toEqual(img.data);
    expect(out.data).not.toBe(img.data);
  });
  it('works on any channel count (single-band images)', () => {
    const grey = { width: 4, height: 4, channels: 1, data: new Uint8Array(16).fill(200) };
    expect(Array.from(resize(grey, 2, 3, Resampling.LANCZOS).data)).toEqual(new Array(6).fill(200));
  });
  it('rejects bad sizes, boxes and filters with InputError', () => {
    expect(() => resize(img, 0, 3)).toThrow(InputError);
    expect(() => resize(img, 2.5, 3)).toThrow(InputError);
    expect(() => resize(img, 2, 2, Resampling.BICUBIC, [-1, 0, 5, 3])).toThrow(InputError);
    expect(() => resize(img, 2, 2, Resampling.BICUBIC, [0, 0, 6, 3])).toThrow(InputError);
    expect(() => resize(img, 2, 2, Resampling.BICUBIC, [3, 0, 2, 3])).toThrow(InputError);
    expect(() => resize(img, 2, 2, 9 as ResamplingFilter)).toThrow(InputError);
  });
  it('is fast enough for a 2000x1500 photo to 384x384 (well under a second)', () => {
    const data = new Uint8Array(2000 * 1500 * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.imul(i, 2654435761) >>> 24;
    const big = { width: 2000, height: 1500, channels: 3, data };
    const t0 = performance.now();
    const out = resize(big, 384, 384);
    const ms = performance.now() - t0;
    expect(out.data.length).toBe(384 * 384 * 3);
    expect(ms).toBeLessThan(3000);
  });
});
