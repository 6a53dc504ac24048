// The optional relaxed-SIMD build: chosen only where the engine runs it correctly, refused with a
// reason otherwise, and — in a child Node with the flags that enable it on Node 20 — its int8
// int4 kernel and fused multiply-add matmul against their oracles, 1 and 2 threads identical.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/errors.js';
import { createWasmBackend } from '../../src/wasm/backend.js';
import { relaxedSimdUnavailable } from '../../src/wasm/module.js';

const NODE20 = process.versions.node.startsWith('20.');

describe('relaxed-SIMD build', () => {
  it.skipIf(!NODE20)('is not used on Node 20 without its flag, and asking for it says why', () => {
    expect(relaxedSimdUnavailable()).toMatch(/experimental-wasm-relaxed-simd/);
    const be = createWasmBackend({ threads: 1 });
    expect(be.flavor).toBe('simd');
    be.close();
    expect(() => createWasmBackend({ threads: 1, flavor: 'relaxed' })).toThrow(BackendUnavailableError);
  });

  it('runs its kernels correctly where enabled (child process: --experimental-wasm-relaxed-simd --no-liftoff)', () => {
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--no-liftoff', '--import', 'tsx', join(import.meta.dirname, 'child', 'relaxed_check.ts')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      flavor: string;
      q4: { shape: number[]; vsOracle: number; vsExact: number; threadsEqual: boolean }[];
      matmul: { shape: unknown[]; relL2: number }[];
    };
    expect(r.flavor).toBe('relaxed');
    for (const c of r.q4) {
      expect(c.vsOracle, `q4 ${c.shape} vs its int8 oracle`).toBeLessThan(1e-6);
      // int8 activations: ~0.5-0.8% relative L2 against the exact op (measured, printed below)
      expect(c.vsExact, `q4 ${c.shape} vs the exact op`).toBeLessThan(1.2e-2);
      expect(c.threadsEqual).toBe(true);
    }
    for (const c of r.matmul) expect(c.relL2, `matmul ${c.shape}`).toBeLessThan(1e-5);
    console.log(`relaxed build: int4 vs exact ${r.q4.map((c) => c.vsExact.toExponential(2)).join(', ')}; matmul ${r.matmul.map((c) => c.relL2.toExponential(2)).join(', ')}`);
  });
});
