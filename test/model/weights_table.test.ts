// The strict key table: tensors nobody uses are reported (not silently dropped), known-unused
// ones (SigLIP's pooling head, layers past the selected one) are not, and the CLI shows the
// report as a warning while still answering.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { SafetensorsFile } from '../../src/io/safetensors.js';
import { writeTensors } from '../../src/io/safetensors_write.js';
import { VilaWeights } from '../../src/model/vila.js';
import type { Tensor } from '../../src/tensor.js';

const fixture = join(import.meta.dirname, '../fixtures/tiny-vila');

function withExtraProjectorTensor(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vila-extra-'));
  cpSync(fixture, dir, { recursive: true });
  const path = join(dir, 'mm_projector/model.safetensors');
  const f = SafetensorsFile.open(path);
  const tensors: Record<string, Tensor> = {};
  for (const n of f.names()) tensors[n] = f.read(n);
  f.close();
  tensors['layers.9.weight'] = { dtype: 'f32', shape: [2], data: new Float32Array([1, 2]) };
  writeTensors(path, tensors);
  return dir;
}

describe('weight key table', () => {
  it('reports nothing for a complete published-layout folder (unused SigLIP head included)', () => {
    const w = VilaWeights.load(fixture);
    expect(w.unknownTensors).toEqual([]);
  });

  it('reports a tensor no model field takes, with its folder', () => {
    const dir = withExtraProjectorTensor();
    const w = VilaWeights.load(dir);
    expect(w.unknownTensors).toEqual([`${join(dir, 'mm_projector')}: layers.9.weight`]);
  });

  it('reports nothing for the InternViT folder (the 40B tower, no key prefix)', () => {
    const w = VilaWeights.load(join(import.meta.dirname, '../fixtures/tiny-vila-intern'));
    expect(w.unknownTensors).toEqual([]);
  });

  it('refuses a vision tower it does not implement (neither SigLIP nor InternViT) with a located error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vila-clip-'));
    cpSync(fixture, dir, { recursive: true });
    const file = join(dir, 'vision_tower/config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), architectures: ['CLIPVisionModel'] }));
    expect(() => VilaWeights.load(dir)).toThrow(ConfigError);
    expect(() => VilaWeights.load(dir)).toThrow(/vision_tower\/config\.json: field 'architectures'/);
  });

  it('the CLI warns about it on stderr and still answers', () => {
    const dir = withExtraProjectorTensor();
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/vila.js'), 'logits', '--model', dir, '--json', 'Hi'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("tensor 'layers.9.weight' is not used by the model");
    expect(JSON.parse(r.stdout).logits.length).toBeGreaterThan(0);
  });
});
