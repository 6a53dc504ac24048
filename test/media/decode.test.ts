// decodeImage against Pillow 9.4.0's Image.open(p).convert('RGB') (tools/image_goldens.py).

import { describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors.js';
import { compositeOnto, decodeImage } from '../../src/media/decode.js';
import { compare, FIXTURES, goldens } from './goldens.js';

const names = Object.keys(goldens.images);

describe('decodeImage matches Image.open(p).convert("RGB")', () => {
  it.each(names)('%s', async (name) => {
    const g = goldens.images[name]!;
    const img = await decodeImage(FIXTURES + name);
    expect([img.width, img.height, img.channels]).toEqual([g.width, g.height, 3]);
    expect(compare(img.data, g.decode)).toBe('');
  });
});

describe("alpha: 'white' matches PIL's paste onto white (Image.new('RGBA', size, 'WHITE').paste(im, (0, 0), im))", () => {
  const withAlpha = names.filter((n) => goldens.images[n]!.composite_white !== undefined);
  it('covers RGBA, LA, palette with tRNS, 16-bit RGBA and WebP', () => {
    expect(withAlpha.length).toBeGreaterThanOrEqual(5);
  });
  it.each(withAlpha)('%s', async (name) => {
    const img = await decodeImage(FIXTURES + name, { alpha: 'white' });
    expect(compare(img.data, goldens.images[name]!.composite_white!)).toBe('');
  });
  it('differs from the default, which drops alpha like upstream', async () => {
    const dropped = await decodeImage(FIXTURES + 'rgba_97x61.png');
    const white = await decodeImage(FIXTURES + 'rgba_97x61.png', { alpha: 'white' });
    expect(Buffer.compare(dropped.data, white.data)).not.toBe(0);
  });
  it('uses Pillow rounding: DIV255(bg*(255-a) + c*a)', () => {
    const img = { width: 4, height: 1, channels: 3 as const, data: new Uint8Array([0, 100, 200, 0, 100, 200, 0, 100, 200, 7, 8, 9]) };
    const out = compositeOnto(img, new Uint8Array([0, 128, 255, 1]), [255, 255, 255]);
    const div255 = (x: number) => Math.round(x / 255);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([255, 255, 255]);
    expect(Array.from(out.data.subarray(3, 6))).toEqual([0, 100, 200].map((c) => div255(255 * 127 + c * 128)));
    expect(Array.from(out.data.subarray(6, 9))).toEqual([0, 100, 200]);
  });
});

describe('EXIF orientation', () => {
  const name = 'exif6_64x48.jpg';
  it('is ignored by default, as by Image.open', async () => {
    const img = await decodeImage(FIXTURES + name);
    expect([img.width, img.height]).toEqual([64, 48]);
  });
  it('is applied on request, as ImageOps.exif_transpose', async () => {
    const g = goldens.images[name]!.exif_transpose!;
    const img = await decodeImage(FIXTURES + name, { exifOrientation: true });
    expect([img.width, img.height]).toEqual([g.width, g.height]);
    expect(compare(img.data, g)).toBe('');
  });
});

describe('unreadable files are MediaErrors naming the path', () => {
  const cases: [string, string, RegExp][] = [
    ['missing file', FIXTURES + 'does_not_exist.png', /ENOENT|no such file/i],
    ['truncated PNG', FIXTURES + 'truncated.png', /cannot decode image: .*png/i],
    ['truncated JPEG', FIXTURES + 'truncated.jpg', /cannot decode image: .*jpeg/i],
    ['text file named .png', FIXTURES + 'not_an_image.png', /unsupported image format|cannot decode/i],
  ];
  it.each(cases)('%s', async (_what, path, said) => {
    const err = await decodeImage(path).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MediaError);
    const msg = (err as MediaError).message;
    expect(msg).toContain(path);
    expect(msg).toMatch(said);
  });
});
