// textOnly loading (`--text-only`): the vision tower and projector files are never opened, the
// text logits are those of the full model, and a prompt with an image is refused by name.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Model } from '../../src/model.js';

const fixture = join(import.meta.dirname, '../fixtures/tiny-vila-intern');
const dir = mkdtempSync(join(tmpdir(), 'vila-text-only-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('textOnly loading', () => {
  it('never reads the tower: a broken vision_tower/ still loads, with the full model\'s text logits', async () => {
    const broken = join(dir, 'broken');
    cpSync(fixture, broken, { recursive: true });
    writeFileSync(join(broken, 'vision_tower/model.safetensors'), 'not a safetensors file');
    writeFileSync(join(broken, 'mm_projector/model.safetensors'), 'nor this');
    await expect(Model.load(broken, { backend: 'ref' })).rejects.toThrow(/model\.safetensors/);

    const full = await Model.load(fixture, { backend: 'ref' });
    const text = await Model.load(broken, { backend: 'ref', textOnly: true });
    const req = { prompt: 'What is shown here?' };
    const a = await full.logits(req);
    const b = await text.logits(req);
    expect(b.inputIds).toEqual(a.inputIds);
    expect(Array.from(b.logits)).toEqual(Array.from(a.logits));
    expect(text.weights.vision).toBeUndefined();

    const withImage = text.logits({ ...req, images: [join(import.meta.dirname, '../../examples/two-circles.png')] });
    await expect(withImage).rejects.toThrow(InputError);
    await expect(withImage).rejects.toThrow(/loaded text only/);
  });
});
