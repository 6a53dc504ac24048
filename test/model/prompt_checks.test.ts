// Prompt checks happen before any image work: the placeholder count, and the spliced length
// against tokenizer_model_max_length, computed from the configs (tokensPerImage), which must
// agree with what the vision tower and projector really emit.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Model } from '../../src/model.js';

const fixtures = join(import.meta.dirname, '../fixtures');
const image = join(fixtures, 'images/gradient_97x61.png');

describe('prompt checks', () => {
  for (const name of ['tiny-vila', 'tiny-vila-pad', 'tiny-vila-mlp2x', 'tiny-vila-linear']) {
    it(`${name}: tokensPerImage is what the image really becomes`, async () => {
      const model = await Model.load(join(fixtures, name));
      const [pixels] = await model.loadImages([image]);
      const rows = model.weights.encodeImage(model.backend, pixels!).shape[0];
      expect(model.weights.tokensPerImage).toBe(rows);
    });
  }

  it('rejects a prompt longer than the model takes, before touching the images', async () => {
    const model = await Model.load(join(fixtures, 'tiny-vila'));
    const long = 'word '.repeat(model.config.modelMaxLength);
    // The image path does not exist: reaching it would raise a MediaError instead.
    await expect(model.logits({ prompt: long, images: ['/nonexistent.png'] })).rejects.toThrow(InputError);
    await expect(model.logits({ prompt: long, images: ['/nonexistent.png'] })).rejects.toThrow(/fills \d+ positions/);
  });

  it('rejects a placeholder count that does not match the images, before touching them', async () => {
    const model = await Model.load(join(fixtures, 'tiny-vila'));
    await expect(model.logits({ prompt: '<image> and <image>', raw: true, images: ['/nonexistent.png'] })).rejects.toThrow(
      /2 image placeholder\(s\) but 1 image\(s\)/,
    );
  });
});
