// The InternViT tower (VILA1.5-40b's) on the committed tiny-vila-intern checkpoint, through the
// reference and WebAssembly backends, against tools/vila_torch.py (intern_rms, intern_attention,
// intern_hidden_states; preprocessing 448 / ImageNet): preprocessed pixels, tower features and
// projector rows of every image (the values expected.json records), then input ids, logits and
// greedy ids of every case, as tiny_vila.test.ts checks the SigLIP fixtures.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cudaAvailability } from '../../src/cuda/addon.js';
import { createCudaBackend } from '../../src/cuda/backend.js';
import { Model } from '../../src/model.js';
import { visionForward } from '../../src/model/vision_tower.js';
import { hostAddon } from '../ops/cuda_host_addon.js';
import { imagePaths, readGolden, relL2, type GoldenCase, itMatchesGoldenCases } from './goldens.js';

const fixture = join(import.meta.dirname, '../fixtures/tiny-vila-intern');
const expectedFile = join(fixture, 'expected.json');

interface ImageDebug {
  image: string;
  pixel_values_shape: number[];
  pixel_values_sum: number;
  'pixel_values[0,0,:8]': number[];
  vision_features_shape: number[];
  'vision_features_row0[:8]': number[];
  'vision_features_row_last[:8]': number[];
  vision_features_sum: number;
  projector_out_shape: number[];
  'projector_out_row0[:8]': number[];
  'projector_out_row_last[:8]': number[];
  projector_out_sum: number;
}

type InternCase = GoldenCase & { debug: { images: ImageDebug[] } };

const golden = readGolden(expectedFile) as unknown as { cases: InternCase[] };

const BACKENDS = [
  { label: 'ref', backend: 'ref' },
  { label: 'wasm, 2 threads', backend: 'wasm', threads: 2 },
] as const;

const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);
/** First 8 values of row 0 and of the last row, as expected.json records them. */
function ends(t: { shape: readonly number[]; data: Float32Array }): number[] {
  const [m, n] = t.shape as [number, number];
  return [...t.data.subarray(0, 8), ...t.data.subarray((m - 1) * n, (m - 1) * n + 8)];
}

for (const b of BACKENDS) {
  describe(`tiny-vila-intern: ${b.label} backend vs PyTorch goldens`, async () => {
    const model = await Model.load(fixture, b);

    it('loads every tensor of the InternViT folder (no unknown keys)', () => {
      expect(model.config.vision?.kind).toBe('intern');
      expect(model.weights.unknownTensors).toEqual([]);
      expect(model.weights.tokensPerImage).toBe(256);
    });

    const images = golden.cases.flatMap((c) => imagePaths(expectedFile, c).map((path, i) => ({ path, dbg: c.debug.images[i]!, key: `${c.name}[${i}]` })));
    for (const { path, dbg, key } of images) {
      it(`${key} ${dbg.image}: pixels, tower features and projector rows`, async () => {
        const [pixels] = await model.loadImages([path]);
        expect(pixels!.shape).toEqual(dbg.pixel_values_shape);
        expect(Array.from(pixels!.data.subarray(0, 8))).toEqual(dbg['pixel_values[0,0,:8]'].map(Math.fround));
        expect(Math.abs(sum(pixels!.data) - dbg.pixel_values_sum)).toBeLessThan(1e-6 * pixels!.data.length);

        const w = model.weights;
        const features = visionForward(model.backend, model.config.vision!, w.vision!.weights, model.config.select!, pixels!, 'check');
        expect(features.shape).toEqual(dbg.vision_features_shape);
        const fWant = [...dbg['vision_features_row0[:8]'], ...dbg['vision_features_row_last[:8]']];
        expect(relL2(fWant, ends(features))).toBeLessThan(1e-4);
        expect(Math.abs(sum(features.data) - dbg.vision_features_sum)).toBeLessThan(1e-3 * Math.sqrt(features.data.length));

        const projected = w.encodeImage(model.backend, pixels!);
        expect(projected.shape).toEqual(dbg.projector_out_shape);
        const pWant = [...dbg['projector_out_row0[:8]'], ...dbg['projector_out_row_last[:8]']];
        expect(relL2(pWant, ends(projected))).toBeLessThan(1e-3);
        expect(Math.abs(sum(projected.data) - dbg.projector_out_sum)).toBeLessThan(1e-3 * Math.sqrt(projected.data.length));
      });
    }

    itMatchesGoldenCases(model, expectedFile, golden.cases);
  });
}

// The CUDA backend's device tensors through the tower: CLS and patches written into row views of
// one buffer, the layer-scale broadcast. With the host stand-in for the addon (no GPU needed) the
// logits must equal the reference backend's bit for bit; on a GPU, as cuda_tiny.test.ts checks
// the SigLIP fixtures (matmuls may round activations to f16: 2e-3).
describe('tiny-vila-intern through the cuda backend with a host stand-in for the addon (no GPU needed)', async () => {
  const model = await Model.load(fixture, { backend: createCudaBackend({ addon: hostAddon() }) });
  const ref = await Model.load(fixture, { backend: 'ref' });
  for (const c of golden.cases.filter((k) => k.images.length > 0)) {
    it(`${c.name}: the reference backend's logits bit for bit`, async () => {
      const req = { prompt: c.prompt, images: imagePaths(expectedFile, c), raw: c.raw };
      const want = await ref.logits(req);
      const got = await model.logits(req);
      expect(Buffer.from(got.logits.buffer, got.logits.byteOffset, got.logits.byteLength).equals(Buffer.from(want.logits.buffer, want.logits.byteOffset, want.logits.byteLength))).toBe(true);
    });
  }
});

const avail = cudaAvailability();
describe.skipIf(!avail.ok)(`tiny-vila-intern: cuda backend vs PyTorch goldens ${avail.ok ? `on ${avail.device.name}` : `(skipped: ${avail.reason})`}`, async () => {
  const model = avail.ok ? await Model.load(fixture, { backend: 'cuda' }) : undefined;
  for (const c of golden.cases) {
    it(`${c.name}: input ids exact, logits within 2e-3, greedy ids equal`, async () => {
      const req = { prompt: c.prompt, images: imagePaths(expectedFile, c), raw: c.raw };
      const { inputIds, logits } = await model!.logits(req);
      expect(inputIds).toEqual(c.input_ids);
      const e = relL2(c.logits, logits);
      console.log(`cuda tiny-vila-intern ${c.name}: logits rel L2 ${e.toExponential(2)}`);
      expect(e).toBeLessThan(2e-3);
      const r = await model!.generate({ ...req, maxNewTokens: c.greedy_ids.length, sampling: { temperature: 0 } });
      expect(r.outputIds).toEqual(c.greedy_ids);
    });
  }
});
