// The pieces of AWQ's search (spec/awq.md §1.2–1.3) on fresh random data: fakeQuantize is what
// the int4 file holds, bit for bit; folding a scale into a norm/linear pair changes nothing in
// full precision; the scale search finds the outlier channel RTN loses; the clip search never
// does worse than no clip and keeps every weight inside the bound it chose.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/ref/index.js';
import { createWasmBackend } from '../../src/wasm/backend.js';
import {
  candidateScales, divideChannels, LLM_AWQ_SETTINGS, meanAbs, mse, scaleColumns, scaledFakeQuantize, searchClip, searchScale, type AwqSettings, type Weight,
} from '../../src/quant/awq_search.js';
import { dequantizeQ4, fakeQuantize, quantizeRtn } from '../../src/quant/q4.js';
import { f32 } from '../../src/tensor.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gauss = (r: () => number) => () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

/** x·wᵀ for x (T, k), w (n, k) → (T, n), f64 sums rounded to f32. */
function matmul(x: Float32Array, w: Float32Array, T: number, n: number, k: number): Float32Array {
  const out = new Float32Array(T * n);
  for (let t = 0; t < T; t++) for (let o = 0; o < n; o++) {
    let acc = 0;
    for (let i = 0; i < k; i++) acc += x[t * k + i]! * w[o * k + i]!;
    out[t * n + o] = acc;
  }
  return out;
}

describe('fakeQuantize', () => {
  for (const [dtype, G] of [['f16', 128], ['f16', 64], ['bf16', 128], ['f32', 256]] as const) {
    it(`equals dequantize(quantizeRtn(w)) bit for bit (${dtype} scales, G = ${G})`, () => {
      const g = gauss(rng(G + dtype.length));
      const n = 36;
      const k = 512;
      const w = Float32Array.from({ length: n * k }, () => g() * 0.05);
      w[7] = 1.5; // an outlier weight in one group
      const expected = dequantizeQ4(quantizeRtn(f32(w, [n, k]), G, dtype)).data;
      const got = fakeQuantize(w, n, k, G, dtype);
      expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      expect(mse(got, w)).toBeGreaterThan(0); // it does quantize
    });
  }
});

describe('AWQ scale search', () => {
  const st: AwqSettings = { ...LLM_AWQ_SETTINGS, groupSize: 64 };

  it('candidate scales: all 1 at α = 0, √(max·min) = 1 for every α', () => {
    const m = Float32Array.from({ length: 64 }, (_, i) => 0.01 + i * 0.1);
    expect([...candidateScales(m, 0)].every((v) => v === 1)).toBe(true);
    for (const a of [0.25, 0.5, 0.95]) {
      const s = candidateScales(m, a);
      expect(Math.sqrt(Math.max(...s) * Math.min(...s))).toBeCloseTo(1, 6);
      expect(s[63]! / s[0]!).toBeCloseTo(((0.01 + 6.3) / 0.01) ** a, 2);
    }
  });

  it('folding s into the weight columns and the input channels leaves the output unchanged', () => {
    const g = gauss(rng(3));
    const T = 20, n = 8, k = 128;
    const x = Float32Array.from({ length: T * k }, g);
    const w: Weight = { data: Float32Array.from({ length: n * k }, g), n, k };
    const before = matmul(x, w.data, T, n, k);
    const s = candidateScales(meanAbs(x, k), 0.5);
    scaleColumns(w, s);
    divideChannels(x, s);
    expect(mse(before, matmul(x, w.data, T, n, k))).toBeLessThan(1e-10);
  });

  it('finds a scale that protects an outlier input channel, and beats round-to-nearest', () => {
    const g = gauss(rng(11));
    const T = 256, n = 64, k = 256;
    const x = Float32Array.from({ length: T * k }, g);
    for (let t = 0; t < T; t++) for (const c of [5, 77]) x[t * k + c] = x[t * k + c]! * 40; // salient channels
    const w: Weight = { data: Float32Array.from({ length: n * k }, () => g() * 0.02), n, k };
    const ref = matmul(x, w.data, T, n, k);
    const r = searchScale(meanAbs(x, k), [w], st, (ws) => matmul(x, ws[0]!, T, n, k), ref);
    expect(r.losses).toHaveLength(20);
    expect(r.alpha).toBeGreaterThan(0);
    const rtn = r.losses[0]!;
    expect(Math.min(...r.losses)).toBeLessThan(0.7 * rtn);
    // The chosen scales favour the salient channels, and the loss reported is the real one.
    expect(r.scales[5]!).toBeGreaterThan(r.scales[6]!);
    const q = new Float32Array(n * k);
    scaledFakeQuantize(w, r.scales, st, q);
    expect(mse(ref, matmul(x, q, T, n, k))).toBeCloseTo(Math.min(...r.losses), 12);
  });
});

describe('AWQ clip search', () => {
  const st: AwqSettings = { ...LLM_AWQ_SETTINGS, groupSize: 64 };
  for (const [name, make] of [['ref', () => createRefBackend()], ['wasm', () => createWasmBackend({ threads: 1 })]] as const) {
    it(`never worse than no clip, weights within the chosen bound (${name} backend)`, () => {
      const be = make();
      const g = gauss(rng(5));
      const T = 600, n = 32, k = 192;
      const x = Float32Array.from({ length: T * k }, g);
      const w: Weight = { data: Float32Array.from({ length: n * k }, () => g() * 0.02), n, k };
      const orig = w.data.slice();
      const r = searchClip(be, w, x, st);
      expect(r.lossAfter).toBeLessThanOrEqual(r.lossBefore);
      console.info(`clip loss after/before: ${(r.lossAfter / r.lossBefore).toFixed(3)}`);
      expect(r.lossAfter).toBeLessThan(0.95 * r.lossBefore); // Gaussian weights: the range is set by the tails
      const groups = k / 64;
      for (let o = 0; o < n; o++) for (let i = 0; i < k; i++) {
        const mx = r.maxVal[o * groups + Math.floor(i / 64)]!;
        expect(Math.abs(w.data[o * k + i]!)).toBeLessThanOrEqual(mx);
        expect(w.data[o * k + i]).toBe(Math.min(mx, Math.max(-mx, orig[o * k + i]!)));
      }
      // Out of sample: the clipped weight's quantization error on fresh inputs is lower too.
      const x2 = Float32Array.from({ length: 200 * k }, g);
      const exact = matmul(x2, orig, 200, n, k);
      const errRtn = mse(exact, matmul(x2, fakeQuantize(orig, n, k, 64, 'f16'), 200, n, k));
      const errClip = mse(exact, matmul(x2, fakeQuantize(w.data, n, k, 64, 'f16'), 200, n, k));
      expect(errClip).toBeLessThan(errRtn);
    });
  }
});
