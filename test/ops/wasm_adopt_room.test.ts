// An int4 model adopted into WebAssembly memory at load time fills each shard with packed
// weights; the first matmul_q4 on each then places the weight's f32 scale tables (1/8 of its
// bytes at G = 128) in the same shard. adopt() keeps that room free. Before it did, a real
// 13B AWQ twin failed at its first decode with OutOfWasmMemory. Here 260 int4 weights of 8 MiB
// fill 1 GiB shards: the second holds ~113, whose tables (1 MiB each) are more than a shard's
// 64 MiB of op scratch (shard 0 keeps another quarter for activations, so it alone would pass).

import { describe, expect, it } from 'vitest';
import { run } from '../../src/backend.js';
import { randomQ4Fast } from '../../src/bench/random_weights.js';
import type { Q4Tensor } from '../../src/quant/q4.js';
import { createWasmBackend } from '../../src/wasm/backend.js';

describe('wasm adopt() of int4 weights', () => {
  it('keeps room in their shard for the scale tables the kernel places beside them', () => {
    const be = createWasmBackend({ threads: 1, shardLimit: 1 << 30 });
    try {
      const n = 4096;
      const k = 4096;
      const template = randomQ4Fast(n, k, 128, 7);
      const weights: Q4Tensor[] = [];
      for (let i = 0; i < 260; i++) {
        // adopt() as the loader does it: qweight (int16), scales and scaled zeros separately
        const qweight = be.adopt!({ dtype: 'i16', shape: [n / 4, k], data: template.qweight.slice() }).data as Uint16Array;
        weights.push({ ...template, qweight, scales: be.adopt!({ ...template.scales, data: template.scales.data.slice() }), scaledZeros: be.adopt!({ ...template.scaledZeros, data: template.scaledZeros.data.slice() }) });
      }
      expect(be.runtime.shards.length).toBeGreaterThan(1);
      const x = { dtype: 'f32' as const, shape: [1, k], data: new Float32Array(k).fill(0.01) };
      const outs = weights.map((w) => {
        const out = { dtype: 'f32' as const, shape: [1, n], data: new Float32Array(n) };
        run(be, 'matmul_q4', 'q4', { out, x, w });
        return out.data;
      });
      // Every copy of the same weight gives the same result, wherever it was placed.
      for (const o of outs) expect(Buffer.from(o.buffer).equals(Buffer.from(outs[0]!.buffer))).toBe(true);
    } finally {
      be.close();
    }
  }, 120_000);
});
