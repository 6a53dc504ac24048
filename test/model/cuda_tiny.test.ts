// Whole-model goldens on the CUDA backend: the committed tiny checkpoints (float: tiny-vila and
// its variants; int4: tinychat-awq) end to end on the GPU against the PyTorch goldens. Input ids
// exact, greedy ids equal (every golden's greedy margin is ≥ 0.02, far above GPU rounding),
// logits within CUDA_LOGITS_REL_L2: the GPU matmuls may round activations to f16 for tensor
// cores (fp32 accumulation), ~1e-4 relative per layer, so 2e-3 over a whole tiny model; the ref
// backend meets 1e-5. Skipped with the reason where there is no addon or no GPU.
//
// Without a GPU, the same model path runs through the host stand-in for the addon
// (test/ops/cuda_host_addon.ts), which checks the backend's device tensors in a real forward
// pass: embeddings written from JavaScript, KV-cache row views, logits on the host; there the
// logits must equal the reference backend's bit for bit, and the KV cache is never re-uploaded.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cudaAvailability } from '../../src/cuda/addon.js';
import { createCudaBackend } from '../../src/cuda/backend.js';
import { Model } from '../../src/model.js';
import { hostAddon } from '../ops/cuda_host_addon.js';
import { imagePaths, readGolden, relL2 } from './goldens.js';

const fixtures = join(import.meta.dirname, '../fixtures');
const CUDA_LOGITS_REL_L2 = 2e-3;
const avail = cudaAvailability();
const skipWhy = avail.ok ? `on ${avail.device.name}` : `(skipped: ${avail.reason})`;

// S2 (tiny-vila-s2, -s2x3): the bicubic and area resizes run on the host between tower runs.
for (const name of ['tiny-vila', 'tiny-vila-pad', 'tiny-vila-mlp2x', 'tiny-vila-linear', 'tiny-vila-s2', 'tiny-vila-s2x3']) {
  describe.skipIf(!avail.ok)(`${name}: cuda backend vs PyTorch goldens ${skipWhy}`, async () => {
    const expectedFile = join(fixtures, name, 'expected.json');
    const golden = readGolden(expectedFile);
    const model = avail.ok ? await Model.load(join(fixtures, name), { backend: 'cuda' }) : undefined;
    for (const c of golden.cases) {
      it(`${c.name}: input ids exact, logits within ${CUDA_LOGITS_REL_L2}, greedy ids equal`, async () => {
        const req = { prompt: c.prompt, images: imagePaths(expectedFile, c), raw: c.raw };
        const { inputIds, logits } = await model!.logits(req);
        expect(inputIds).toEqual(c.input_ids);
        const e = relL2(c.logits, logits);
        console.log(`cuda ${name} ${c.name}: logits rel L2 ${e.toExponential(2)}`);
        expect(e).toBeLessThan(CUDA_LOGITS_REL_L2);
        const r = await model!.generate({ ...req, maxNewTokens: c.greedy_ids.length, sampling: { temperature: 0 } });
        expect(r.outputIds).toEqual(c.greedy_ids);
      });
    }
  });
}

describe.skipIf(!avail.ok)(`tinychat-awq (int4): cuda backend vs expected.json ${skipWhy}`, async () => {
  const dir = join(fixtures, 'tinychat-awq');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const model = avail.ok ? await Model.load(dir, { backend: 'cuda' }) : undefined;
  for (const c of expected.cases) {
    it(`${c.name}: input ids exact, logits within ${CUDA_LOGITS_REL_L2} of either dequantisation convention, greedy ids equal`, async () => {
      const req = { prompt: c.prompt, images: (c.images as string[]).map((p) => join(dir, p)), raw: true };
      const { inputIds, logits } = await model!.logits(req);
      expect(inputIds).toEqual(c.input_ids);
      // fp16-rounded dequantisation (TinyChat's __hfma2) or float32: whichever the kernel does.
      const e = Math.min(relL2(c.logits, logits), relL2(c.unrounded_dequant.logits, logits));
      console.log(`cuda tinychat-awq ${c.name}: logits rel L2 ${e.toExponential(2)}`);
      expect(e).toBeLessThan(CUDA_LOGITS_REL_L2);
      const r = await model!.generate({ ...req, maxNewTokens: c.greedy_ids.length, sampling: { temperature: 0 } });
      expect(r.outputIds).toEqual(c.greedy_ids);
    });
  }
});

describe.each([['tiny-vila'], ['tiny-vila-s2']])('%s through the cuda backend with a host stand-in for the addon (no GPU needed)', async (name) => {
  const expectedFile = join(fixtures, name, 'expected.json');
  const golden = readGolden(expectedFile);
  const host = hostAddon();
  const model = await Model.load(join(fixtures, name), { backend: createCudaBackend({ addon: host }) });
  const ref = await Model.load(join(fixtures, name), { backend: 'ref' });
  for (const c of golden.cases) {
    it(`${c.name}: the reference backend's logits bit for bit, greedy ids equal`, async () => {
      const req = { prompt: c.prompt, images: imagePaths(expectedFile, c), raw: c.raw };
      const want = await ref.logits(req);
      const got = await model.logits(req);
      expect(got.inputIds).toEqual(c.input_ids);
      expect(Buffer.from(got.logits.buffer, got.logits.byteOffset, got.logits.byteLength).equals(Buffer.from(want.logits.buffer, want.logits.byteOffset, want.logits.byteLength))).toBe(true);
      const before = host.stats.uploadBytes;
      const r = await model.generate({ ...req, maxNewTokens: c.greedy_ids.length, sampling: { temperature: 0 } });
      expect(r.outputIds).toEqual(c.greedy_ids);
      // Decode uploads the new token's embedding row and the ids/positions, never a KV cache.
      const perToken = (host.stats.uploadBytes - before) / c.greedy_ids.length;
      expect(perToken).toBeLessThan(64 * 1024);
    });
  }
});
