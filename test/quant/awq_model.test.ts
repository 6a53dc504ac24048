// `vila quantize --method awq` on the bundled vila-shapes: calibrated on conversations with
// pictures (and on plain text), every layer's search ends at or below round-to-nearest's loss,
// the scaled norms replace the stored ones, and the int4 model loads and still answers.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relL2 } from '../../src/compare.js';
import { InputError } from '../../src/errors.js';
import { SafetensorsFile } from '../../src/io/safetensors.js';
import { Model } from '../../src/model.js';
import { isQ4 } from '../../src/quant/q4.js';
import { quantizeModel, type QuantizeReport } from '../../src/quant/quantize_model.js';
import { toF32 } from '../../src/tensor.js';

const root = join(import.meta.dirname, '../..');
const shapes = join(root, 'models/vila-shapes');
const calib = join(root, 'test/fixtures/vila-shapes-calib/questions.jsonl');
const image = join(root, 'examples/two-circles.png');
const prompt = 'How many circles are there?';

describe('quantizeModel (awq)', () => {
  let tmp: string;
  let out: string;
  let report: QuantizeReport;
  const progress: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'vila-awq-'));
    out = join(tmp, 'awq');
    report = await quantizeModel(shapes, out, { method: 'awq', groupSize: 64, calib, calibSamples: 8, onProgress: (_d, _t, what) => progress.push(what) });
  }, 240_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reports the calibration, and every search ends at or below round-to-nearest', () => {
    expect(report.awq?.samples).toBe(8);
    expect(report.awq!.tokens).toBeGreaterThan(8 * 16); // 16 image tokens each, plus the turn
    expect(report.awq!.layers).toHaveLength(4);
    for (const l of report.awq!.layers) {
      expect(l.scales.map((s) => s.name)).toEqual(['input_layernorm→q,k,v', 'v→o', 'post_attention_layernorm→gate,up', 'up→down']);
      for (const s of l.scales) {
        expect(s.lossVsRtn).toBeLessThanOrEqual(1);
        expect(s.alpha).toBeGreaterThanOrEqual(0);
        expect(s.alpha).toBeLessThan(1);
      }
      expect(l.clips.map((c) => c.name)).toEqual(['v', 'o', 'gate', 'up', 'down']);
      for (const c of l.clips) expect(c.lossVsRtn).toBeLessThanOrEqual(1);
    }
    expect(progress.some((p) => p.includes('llm.layers.3 clip down'))).toBe(true);
    expect(progress.some((p) => p.includes('embedding sample 8'))).toBe(true);
  });

  it('writes int4 linears and AWQ-scaled norms in their stored dtype; the final norm is untouched', () => {
    const a = SafetensorsFile.open(join(out, 'llm/model.safetensors'));
    const b = SafetensorsFile.open(join(shapes, 'llm/model.safetensors'));
    try {
      expect(a.names().some((n) => /_proj\.weight$/.test(n))).toBe(false);
      for (const norm of ['model.layers.0.input_layernorm.weight', 'model.layers.2.post_attention_layernorm.weight']) {
        expect(a.info(norm).storedDtype).toBe('BF16');
        const x = toF32(a.read(norm)).data;
        const y = toF32(b.read(norm)).data;
        expect(relL2(y, x)).toBeGreaterThan(1e-3); // divided by the searched scales
      }
      expect(Buffer.from(a.read('model.norm.weight').data.buffer).equals(Buffer.from(b.read('model.norm.weight').data.buffer))).toBe(true);
    } finally {
      a.close();
      b.close();
    }
  });

  it('loads with int4 linears and still answers "Two"', async () => {
    const bf16 = await Model.load(shapes);
    const want = (await bf16.logits({ prompt, images: [image] })).logits;
    const model = await Model.load(out);
    for (const l of model.weights.llm.layers) for (const w of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) expect(isQ4(w)).toBe(true);
    const { logits } = await model.logits({ prompt, images: [image] });
    const diff = relL2(want, logits);
    console.info(`vila-shapes awq int4 G=64 (8 calibration conversations): logits rel L2 vs bf16 = ${diff.toExponential(3)}`);
    expect(diff).toBeLessThan(5e-2);
    const r = await model.generate({ prompt, images: [image], sampling: { temperature: 0 }, maxNewTokens: 8 });
    expect(r.text.startsWith('Two')).toBe(true);
  }, 60_000);

  it('calibrates on plain text too, and names the bad line of a calibration file', async () => {
    const text = join(tmp, 'calib.txt');
    writeFileSync(text, 'How many circles are there? Two. What colour is the star? Green. Is there a square? No. '.repeat(20));
    const r = await quantizeModel(shapes, join(tmp, 'awq-text'), { method: 'awq', groupSize: 64, calib: text, calibSamples: 2, calibTokens: 64 });
    expect(r.awq).toMatchObject({ samples: 2, tokens: 128 });
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ images: [], question: 'Hi?', answer: 'Yes.' })}\n{not json\n`);
    await expect(quantizeModel(shapes, join(tmp, 'o1'), { method: 'awq', groupSize: 64, calib: bad })).rejects.toThrow(/line 2 is not JSON/);
    const missing = join(tmp, 'missing.jsonl');
    writeFileSync(missing, `${JSON.stringify({ images: ['nope.png'], question: 'Hi?', answer: 'Yes.' })}\n`);
    await expect(quantizeModel(shapes, join(tmp, 'o2'), { method: 'awq', groupSize: 64, calib: missing })).rejects.toThrow(InputError);
    await expect(quantizeModel(shapes, join(tmp, 'o3'), { method: 'awq', groupSize: 64, calib: missing })).rejects.toThrow(/nope\.png does not exist/);
  }, 120_000);
});
