// The torch.save writer: what it writes is read back by this project's restricted reader (values,
// dtypes, shapes, sparse zeros) and by PyTorch's own torch.load; a record past 4 GiB uses zip64.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPt } from '../../src/io/pt.js';
import { writeTorchStateDict, type PtEntry } from '../../src/io/pt_write.js';
import type { Tensor } from '../../src/tensor.js';

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'vila-ptw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (t: Tensor): PtEntry => ({ spec: { dtype: t.dtype, shape: t.shape }, get: () => t });

function sample(): Map<string, PtEntry> {
  const f32 = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);
  const i16 = Int16Array.from([-32768, -1, 0, 1, 32767, 1234, -4321, 7]);
  const f16 = Uint16Array.from([0x3c00, 0xbc00, 0x3555, 0x0001]); // 1, -1, 0.333, smallest subnormal
  const bf16 = Uint16Array.from([0x3f80, 0x4049, 0xc000]); // 1, 3.140625, -2
  return new Map<string, PtEntry>([
    ['model.a.weight', entry({ dtype: 'f32', shape: [2, 3], data: f32 })],
    ['model.layers.0.self_attn.q_proj.qweight', entry({ dtype: 'i16', shape: [2, 4], data: i16 })],
    ['model.layers.0.self_attn.q_proj.scales', entry({ dtype: 'f16', shape: [4], data: f16 })],
    ['model.norm.weight', entry({ dtype: 'bf16', shape: [3], data: bf16 })],
    ['lm_head.weight', { spec: { dtype: 'f16', shape: [5, 7] }, get: () => 'zeros' }],
  ]);
}

describe('writeTorchStateDict', () => {
  const path = join(dir, 'tiny-w4-g128-awq-v2.pt');
  writeTorchStateDict(path, sample());

  it('is read back by the restricted reader with every value, dtype and shape', () => {
    const src = openPt(path);
    try {
      const want = sample();
      expect(src.names()).toEqual([...want.keys()]);
      for (const [name, e] of want) {
        const got = src.read(name);
        expect(got.dtype).toBe(e.spec.dtype);
        expect(got.shape).toEqual(e.spec.shape);
        const t = e.get();
        if (t === 'zeros') expect([...got.data].every((v) => v === 0)).toBe(true);
        else expect([...got.data]).toEqual([...t.data]);
      }
    } finally {
      src.close();
    }
  });

  it.skipIf(!hasTorch)('is read by torch.load with the same values (needs Debian python3-torch)', () => {
    const script = `
import sys, torch, json
sd = torch.load(sys.argv[1], map_location="cpu")
print(json.dumps({k: [str(v.dtype), list(v.shape), v.float().flatten().tolist()] for k, v in sd.items()}))`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/Error/);
    const got = JSON.parse(r.stdout) as Record<string, [string, number[], number[]]>;
    expect(Object.keys(got)).toEqual([...sample().keys()]);
    expect(got['model.a.weight']).toEqual(['torch.float32', [2, 3], [-1, -0.5, 0, 0.5, 1, 1.5]]);
    expect(got['model.layers.0.self_attn.q_proj.qweight']).toEqual(['torch.int16', [2, 4], [-32768, -1, 0, 1, 32767, 1234, -4321, 7]]);
    expect(got['model.layers.0.self_attn.q_proj.scales']![2]).toEqual([1, -1, 0.333251953125, 5.960464477539063e-8]);
    expect(got['model.norm.weight']).toEqual(['torch.bfloat16', [3], [1, 3.140625, -2]]);
    expect(got['lm_head.weight']![2]).toEqual(new Array(35).fill(0));
  });

  it('writes records past 4 GiB with zip64 fields (a sparse 4.3 GB zero tensor, then a small one)', () => {
    const big = join(dir, 'big.pt');
    const small = Int16Array.from([1, -2, 3, -4]);
    writeTorchStateDict(big, new Map<string, PtEntry>([
      ['zeros', { spec: { dtype: 'i16', shape: [2_150_000_000] }, get: () => 'zeros' }],
      ['after', entry({ dtype: 'i16', shape: [4], data: small })],
    ]));
    expect(statSync(big).size).toBeGreaterThan(2 ** 32);
    const src = openPt(big);
    try {
      expect(src.info('zeros').shape).toEqual([2_150_000_000]);
      expect(src.info('after').offset).toBeGreaterThan(2 ** 32);
      expect([...src.read('after').data]).toEqual([1, -2, 3, -4]);
    } finally {
      src.close();
    }
    rmSync(big);
  }, 60_000);
});
