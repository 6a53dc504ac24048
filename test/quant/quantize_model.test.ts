// `vila quantize --method rtn`: the bundled vila-shapes quantized to TinyChat v2 int4 loads on
// ref and wasm, its decoder linears are Q4Tensors, and it still answers the README example.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relL2 } from '../../src/compare.js';
import { InputError } from '../../src/errors.js';
import { SafetensorsFile } from '../../src/io/safetensors.js';
import { Model } from '../../src/model.js';
import { isQ4 } from '../../src/quant/q4.js';
import { quantizeModel } from '../../src/quant/quantize_model.js';

const root = join(import.meta.dirname, '../..');
const shapes = join(root, 'models/vila-shapes');
const image = join(root, 'examples/two-circles.png');
const prompt = 'How many circles are there?';
const G = 64; // vila-shapes has hidden size 192, which 128 does not divide

describe('quantizeModel (rtn)', () => {
  let tmp: string;
  let out: string;
  let bf16Logits: Float32Array;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'vila-quantize-'));
    out = join(tmp, 'q4');
    await quantizeModel(shapes, out, { groupSize: G });
    const ref = await Model.load(shapes, { backend: 'ref' });
    bf16Logits = (await ref.logits({ prompt, images: [image] })).logits;
  }, 120_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes int4 decoder linears, keeps other tensors, and adds quantization_config', () => {
    const f = SafetensorsFile.open(join(out, 'llm/model.safetensors'));
    try {
      const names = f.names();
      expect(names.some((n) => /^model\.layers\.\d+\..*_proj\.weight$/.test(n))).toBe(false);
      expect(f.info('model.layers.0.self_attn.q_proj.qweight').storedDtype).toBe('I16');
      expect(f.info('model.layers.0.self_attn.q_proj.qweight').shape).toEqual([48, 192]);
      expect(f.info('model.layers.0.mlp.down_proj.scales').storedDtype).toBe('F16');
      expect(f.info('model.layers.0.mlp.down_proj.scales').shape).toEqual([16, 192]); // 512/64 = 8 groups, padded to 16 rows for G = 64 (calculate_zeros_width)
      expect(f.info('model.layers.3.mlp.up_proj.scaled_zeros').storedDtype).toBe('F16');
      for (const kept of ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight']) expect(f.info(kept).storedDtype).toBe('BF16');
    } finally {
      f.close();
    }
    const cfg = JSON.parse(readFileSync(join(out, 'llm/config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg['quantization_config']).toEqual({ quant_method: 'awq', bits: 4, group_size: G, zero_point: true, version: 'gemv_fast' });
    expect(cfg['hidden_size']).toBe(192);
    for (const sub of ['vision_tower', 'mm_projector']) {
      for (const file of readdirSync(join(shapes, sub))) expect(readFileSync(join(out, sub, file)).equals(readFileSync(join(shapes, sub, file))), `${sub}/${file}`).toBe(true);
    }
    expect(readFileSync(join(out, 'llm/tokenizer.model')).equals(readFileSync(join(shapes, 'llm/tokenizer.model')))).toBe(true);
  });

  for (const backend of ['ref', 'wasm'] as const) {
    it(`loads on ${backend} with Q4Tensor linears and still answers "Two"`, async () => {
      const model = await Model.load(out, { backend });
      for (const l of model.weights.llm.layers) for (const w of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) expect(isQ4(w)).toBe(true);
      expect(isQ4(model.weights.llm.lmHead)).toBe(false);
      const { logits } = await model.logits({ prompt, images: [image] });
      const diff = relL2(bf16Logits, logits);
      console.log(`vila-shapes rtn int4 G=${G} on ${backend}: logits rel L2 vs bf16 = ${diff.toExponential(3)}`);
      expect(diff).toBeLessThan(5e-2);
      const r = await model.generate({ prompt, images: [image], sampling: { temperature: 0 }, maxNewTokens: 8 });
      console.log(`vila-shapes rtn int4 on ${backend}: ${JSON.stringify(r.text)}`);
      expect(r.text.startsWith('Two')).toBe(true);
    }, 120_000);
  }

  it('refuses a non-empty --out, a folder without llm/, awq without calibration, and a group size that does not divide', async () => {
    const full = join(tmp, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), '');
    await expect(quantizeModel(shapes, full, { groupSize: G })).rejects.toThrow(InputError);
    await expect(quantizeModel(shapes, full, { groupSize: G })).rejects.toThrow(/not empty/);
    const noLlm = join(tmp, 'nollm');
    mkdirSync(noLlm);
    await expect(quantizeModel(noLlm, join(tmp, 'o1'), { groupSize: G })).rejects.toThrow(/llm/);
    await expect(quantizeModel(shapes, join(tmp, 'o2'), { method: 'awq', groupSize: G })).rejects.toThrow(/--calib FILE/);
    await expect(quantizeModel(shapes, join(tmp, 'o3'))).rejects.toThrow(/group size 128.*--group-size 64/);
  });

  it('runs from the command line', () => {
    const cliOut = join(tmp, 'cli');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import { main } from './src/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));", '--', 'quantize', ...args], {
        cwd: root,
        encoding: 'utf8',
      });
    const ok = run('--model', shapes, '--out', cliOut, '--group-size', String(G));
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('quantized 28 linears');
    expect(readFileSync(join(cliOut, 'llm/model.safetensors')).equals(readFileSync(join(out, 'llm/model.safetensors')))).toBe(true);
    const again = run('--model', shapes, '--out', cliOut, '--group-size', String(G));
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('not empty');
    const awq = run('--model', shapes, '--out', join(tmp, 'cli-awq'), '--method', 'awq');
    expect(awq.status).toBe(2);
    expect(awq.stderr).toContain('--calib FILE');
  }, 60_000);
});
