// The int4 kernel against its own exact oracle (src/ref/matmul_q4.ts matmul_q4_q8act with
// int16 levels: the same activation quantization, float64 sums) — tight, at real shapes — and
// what quantizing the activations costs, measured against the product with exact activations.

import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/backend.js';
import { difference } from '../../src/compare.js';
import { randn } from '../../src/opcheck/harness.js';
import { q4At, randomQ4, type Q4Tensor } from '../../src/quant/q4.js';
import { matmul_q4_q8act } from '../../src/ref/matmul_q4.js';
import { seededRandom } from '../../src/sampling.js';
import { f32, floatReader, zeros, type F32Tensor } from '../../src/tensor.js';
import { createWasmBackend } from '../../src/wasm/backend.js';

const be = createWasmBackend({ threads: 2, flavor: 'simd' });
afterAll(() => be.close());

/** x · (q·s + sz)ᵀ in float64 with unrounded weights: the kernel's target without quantized activations. */
function exactUnrounded(x: F32Tensor, w: Q4Tensor, bias: Float32Array): Float64Array {
  const [m, k] = x.shape as [number, number];
  const n = w.shape[0];
  const s = floatReader(w.scales);
  const sz = floatReader(w.scaledZeros);
  const out = new Float64Array(m * n);
  for (let o = 0; o < n; o++) {
    for (let i = 0; i < m; i++) {
      let acc = 0;
      for (let p = 0; p < k; p++) {
        const g = Math.floor(p / w.groupSize);
        acc += x.data[i * k + p]! * (q4At(w, o, p) * s(g * n + o) + sz(g * n + o));
      }
      out[i * n + o] = acc + bias[o]!;
    }
  }
  return out;
}

describe('wasm matmul_q4 (SIMD128, int16 activations)', () => {
  for (const [m, k, n, g] of [[1, 2560, 128, 128], [7, 6912, 32, 128], [4, 1024, 36, 64], [2, 1024, 20, 256]] as const) {
    it(`m=${m} k=${k} n=${n} g=${g}: within f32 rounding of its oracle; int16 activations cost < 1e-4`, () => {
      const rng = seededRandom(m * 1000 + n);
      const w = randomQ4(rng, n, k, g);
      // Activations with an outlier channel, as LLM hidden states have: per-block scales keep it local.
      const xs = randn(rng, m * k);
      for (let i = 0; i < m; i++) xs[i * k + 7] = 40;
      const x = f32(xs, [m, k]);
      const bias = { dtype: 'f32' as const, shape: [n], data: randn(rng, n, 0.1) };
      const got = zeros([m, n]);
      run(be, 'matmul_q4', 'q4', { out: got, x, w, bias });
      const oracle = zeros([m, n]);
      matmul_q4_q8act({ out: oracle, x, w, bias }, 32767);
      expect(difference(oracle.data, got.data).relL2).toBeLessThan(1e-6);
      const cost = difference(exactUnrounded(x, w, bias.data), got.data).relL2;
      expect(cost).toBeGreaterThan(0);
      expect(cost).toBeLessThan(1e-4);
    });
  }
});
