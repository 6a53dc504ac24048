// Weights spread over several WebAssembly memories: a model larger than one memory (4 GiB in
// wasm32) must run. Here small shards force the bundled vila-shapes model (6 MB of weights) over
// several memories; activations cross between them by copy, and the logits must not change by
// a single bit.

import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR } from '../../src/default_model.js';
import { Model } from '../../src/model.js';
import { createWasmBackend } from '../../src/wasm/backend.js';
import { join } from 'node:path';

describe('wasm backend over several memory shards', () => {
  it('gives the same logits with 8 MiB shards as with one memory', async () => {
    const one = createWasmBackend({ threads: 2 });
    const many = createWasmBackend({ threads: 2, shardLimit: 8 << 20 });
    try {
      const req = { prompt: 'How many circles are there?', images: [join(DEFAULT_MODEL_DIR, '..', '..', 'examples', 'two-circles.png')] };
      const a = await (await Model.load(DEFAULT_MODEL_DIR, { backend: one })).logits(req);
      const b = await (await Model.load(DEFAULT_MODEL_DIR, { backend: many })).logits(req);
      expect(many.runtime.shards.length).toBeGreaterThan(1);
      expect(one.runtime.shards.length).toBe(1);
      expect(Buffer.from(b.logits.buffer, b.logits.byteOffset, b.logits.byteLength).equals(Buffer.from(a.logits.buffer, a.logits.byteOffset, a.logits.byteLength))).toBe(true);
    } finally {
      one.close();
      many.close();
    }
  });
});
