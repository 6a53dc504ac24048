// Every op of the CUDA backend against the reference on fresh seeded inputs at real model shapes
// (the cases of src/opcheck/, CUDA tolerances from src/opcheck/cuda_tolerance.ts): sentinels
// around every output (allocated on the device), NaN/infinities, NMSE. Skipped, with the reason,
// where the addon is not built or there is no GPU.
//
// The backend's TypeScript side (handles, byte offsets, host mirrors, scratch, weight cache) is
// also checked here without a GPU, through a host stand-in for the addon that runs the reference
// kernels on its "device" buffers (test/ops/cuda_host_addon.ts).

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/ref/index.js';
import { createCudaBackend } from '../../src/cuda/backend.js';
import { cudaAvailability } from '../../src/cuda/addon.js';
import { ALL_CASES } from '../../src/opcheck/cases.js';
import { cudaCase } from '../../src/opcheck/cuda_tolerance.js';
import { judge, runCase, sameBits } from '../../src/opcheck/harness.js';
import { hostAddon } from './cuda_host_addon.js';

const ref = createRefBackend();
const avail = cudaAvailability();
const why = avail.ok ? '' : ` (skipped: ${avail.reason})`;

describe.skipIf(!avail.ok)(`cuda backend vs reference${avail.ok ? ` on ${avail.device.name} (sm_${avail.device.capability.replace('.', '')})` : why}`, () => {
  const be = avail.ok ? createCudaBackend() : undefined;
  ALL_CASES.forEach((c0, i) => {
    const c = cudaCase(c0);
    it(`${c.name} (NMSE ≤ ${c.nmse})`, () => {
      const seed = 1000 + i;
      const want = runCase(ref, c, seed);
      const got = runCase(be!, c, seed);
      expect(judge(c, want.outputs, got.outputs)).toBeUndefined();
    });
  });
  it('repeatable: the decode-shaped int4 GEMV and attention give the same bits twice', () => {
    for (const c of ALL_CASES.filter((x) => /^(matmul_q4|attention) llama.* decode/.test(x.name))) {
      const a = runCase(be!, c, 7);
      const b = runCase(be!, c, 7);
      expect(sameBits(a.outputs, b.outputs), c.name).toBeUndefined();
    }
  });
});

// The small cases (ragged sizes, every op): the reference twice, once through the stand-in.
const SMALL = ALL_CASES.filter((c) => c.flops < 2e7 && c.bytes < 4e7);

describe('cuda backend marshalling through a host stand-in for the addon (no GPU needed)', () => {
  const host = hostAddon();
  const be = createCudaBackend({ addon: host });
  it('covers every op', () => {
    expect(new Set(SMALL.map((c) => c.op)).size).toBe(14);
  });
  SMALL.forEach((c, i) => {
    it(c.name, () => {
      const want = runCase(ref, c, 2000 + i);
      const got = runCase(be, c, 2000 + i);
      expect(sameBits(want.outputs, got.outputs)).toBeUndefined();
    });
  });
});
