// Upstream process_image end to end: decode, 'resize' or 'pad', SigLIP processor resize, rescale
// and normalize, against float32 pixel_values from Pillow 9.4.0 + numpy (tools/image_goldens.py),
// bit for bit. Also the preprocessor_config.json validation.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { decodeImage } from '../../src/media/decode.js';
import {
  expandToSquare,
  loadImage,
  loadImageProcessorConfig,
  padColour,
  parseImageProcessorConfig,
  preprocess,
} from '../../src/media/image.js';
import { Resampling } from '../../src/media/resample.js';
import { compare, FIXTURES, goldens } from './goldens.js';

describe('expand2square matches upstream (PIL paste on a square of int(mean*255))', () => {
  it.each(goldens.pad.map((g) => [g.image, g] as const))('%s', async (_name, g) => {
    const img = await decodeImage(FIXTURES + g.image);
    const out = expandToSquare(img, g.fill);
    expect([out.width, out.height]).toEqual([g.width, g.height]);
    expect(compare(out.data, g)).toBe('');
  });
});

describe('pixel_values match upstream process_image bit for bit', () => {
  const configs = [...new Set(goldens.tensors.map((t) => t.config))];
  it.each(configs)('%s', async (configName) => {
    const cfg = await loadImageProcessorConfig(FIXTURES + configName);
    const failures: string[] = [];
    const cases = goldens.tensors.filter((t) => t.config === configName);
    for (const g of cases) {
      const t = await loadImage(FIXTURES + g.image, cfg, g.aspect);
      const why = t.shape.join(',') !== g.shape.join(',') ? `shape ${t.shape.join('x')}` : compare(t.data, g);
      if (why) failures.push(`${g.image} ${g.aspect}: ${why}`);
    }
    expect(cases.length).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });

  it('VILA 1.5 SigLIP: (3, 384, 384), px = (u8/255 - 0.5)/0.5 in float32', async () => {
    const cfg = await loadImageProcessorConfig(FIXTURES + 'siglip384.json');
    const t = await loadImage(FIXTURES + 'photo_500x333.jpg', cfg, 'pad');
    expect(t.shape).toEqual([3, 384, 384]);
    expect(padColour(cfg)).toEqual([127, 127, 127]);
    // The corner is pad colour 127 after a same-colour bicubic resize: (127/255 - 0.5) / 0.5.
    expect(t.data[0]).toBe(Math.fround(Math.fround(Math.fround(127 * 0.00392156862745098) - 0.5) / 0.5));
  });
});

describe('preprocessor_config.json validation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vila-media-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('fills SiglipImageProcessor defaults for absent fields', () => {
    const cfg = parseImageProcessorConfig({}, 'x.json');
    expect(cfg.size).toEqual({ shortestEdge: 384 });
    expect(cfg.resample).toBe(Resampling.BICUBIC);
    expect([cfg.doResize, cfg.doRescale, cfg.doNormalize]).toEqual([true, true, true]);
    expect(cfg.rescaleFactor).toBe(1 / 255);
    expect(cfg.imageMean).toEqual([0.5, 0.5, 0.5]);
    expect(cfg.imageStd).toEqual([0.5, 0.5, 0.5]);
  });

  it('accepts do_convert_rgb null and unknown keys (processor_class, ...), as published configs have them', () => {
    const cfg = parseImageProcessorConfig({ do_convert_rgb: null, processor_class: 'SiglipProcessor', size: { height: 384, width: 384 } }, 'x.json');
    expect(cfg.size).toEqual({ height: 384, width: 384 });
  });

  const bad: [string, string, string][] = [
    ['size', '{"size": {"height": 0, "width": 384}}', 'size.height'],
    ['size', '{"size": 384}', "'size'"],
    ['crop_size', '{"crop_size": {"shortest_edge": 3}}', "'crop_size'"],
    ['resample', '{"resample": 7}', "'resample'"],
    ['resample', '{"resample": "bicubic"}', "'resample'"],
    ['do_resize', '{"do_resize": 1}', "'do_resize'"],
    ['do_rescale', '{"do_rescale": "yes"}', "'do_rescale'"],
    ['do_normalize', '{"do_normalize": null}', "'do_normalize'"],
    ['rescale_factor', '{"rescale_factor": "1/255"}', "'rescale_factor'"],
    ['image_mean', '{"image_mean": [0.5, 0.5]}', "'image_mean'"],
    ['image_std', '{"image_std": [0.5, 0, 0.5]}', "'image_std'"],
    ['image_processor_type', '{"image_processor_type": "CLIPImageProcessor"}', "'image_processor_type'"],
    ['not JSON', '{"size": ', 'not valid JSON'],
  ];
  it.each(bad)('%s: %s', async (_field, text, names) => {
    const p = write(`bad${Math.random().toString(36).slice(2)}.json`, text);
    const err = await loadImageProcessorConfig(p).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(p);
    expect((err as Error).message).toContain(names);
  });

  it('missing file is a ConfigError naming it', async () => {
    await expect(loadImageProcessorConfig(join(dir, 'nope.json'))).rejects.toThrow(/nope\.json/);
  });

  it("'resize' with a shortest_edge size is a ConfigError (upstream needs height and width)", async () => {
    const cfg = parseImageProcessorConfig({ size: { shortest_edge: 27 } }, 'se.json');
    const img = await decodeImage(FIXTURES + 'tiny_20x13.png');
    expect(() => preprocess(img, cfg, 'resize')).toThrow(ConfigError);
    expect(() => preprocess(img, cfg, 'resize')).toThrow(/se\.json.*size/);
  });
});
