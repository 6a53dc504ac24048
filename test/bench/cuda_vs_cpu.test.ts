// The CPU-vs-GPU benchmark's plumbing without a GPU: the host stand-in for the addon plays the
// GPU, on the tiny model shape and small op cases; the report, the JSON, the SVG and the table.

import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cudaTable, f16Spec, q4Spec, runCudaVsCpu } from '../../src/bench/cuda_vs_cpu.js';
import { createCudaBackend } from '../../src/cuda/backend.js';
import { hostAddon } from '../ops/cuda_host_addon.js';

describe('bench cuda-vs-cpu (host stand-in for the GPU)', () => {
  it('measures both sides, writes JSON and SVG, prints the table', () => {
    const out = mkdtempSync(join(tmpdir(), 'vila-cuda-bench-'));
    const r = runCudaVsCpu({
      out, cpuThreads: 1, skipCpu: false, skipModel: false, tokens: 2, shape: 'tiny',
      specs: [q4Spec('tiny decode', 1, 128, 256), f16Spec('tiny', 8, 64, 64)], gpu: createCudaBackend({ addon: hostAddon() }), copyBytes: 1 << 20, rotateBytes: 1 << 16,
    });
    expect(r.ops).toHaveLength(2);
    for (const f of r.ops) {
      expect(f.ms.gpu).toBeGreaterThan(0);
      expect(f.ms.cpu).toBeGreaterThan(0);
    }
    expect(r.model.gpu?.decode_tok_s).toBeGreaterThan(0);
    expect(r.model.cpu?.ttft_s).toBeGreaterThan(0);
    expect(r.model.gpu?.image_tokens).toBe(4);
    const files = readdirSync(out);
    expect(files.some((f) => /^cuda-vs-cpu-\d{4}-\d\d-\d\d\.json$/.test(f))).toBe(true);
    expect(readFileSync(join(out, 'cuda-vs-cpu.svg'), 'utf8')).toMatch(/^<svg[\s\S]*GPU device copy[\s\S]*<\/svg>\n$/);
    const table = cudaTable(r);
    expect(table).toMatch(/time to first token/);
    expect(table).toMatch(/int4 tiny decode m=1 128x256/);
  }, 120_000);
});
