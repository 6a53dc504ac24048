// The fast random weights of the model benchmark have the layout and distribution they claim:
// int4 as quant/q4.ts randomQ4 (valid TinyChat v2 buffers, f16 scales in [0.002, 0.02], padding
// rows zero), fp16 with the requested mean and spread, and the in-memory model runs.

import { describe, expect, it } from 'vitest';
import { dequantizeQ4, paddedGroups, validateQ4 } from '../../src/quant/q4.js';
import { randomF16, randomQ4Fast } from '../../src/bench/random_weights.js';
import { buildRandomModel } from '../../src/bench/random_model.js';
import { BENCH_SHAPES } from '../../src/bench/shapes.js';
import { createRefBackend } from '../../src/ref/index.js';
import { f16ToF32 } from '../../src/tensor.js';

describe('random weights for benchmarks', () => {
  it('int4: valid buffers with randomQ4 scales, every nibble value present', () => {
    const w = randomQ4Fast(64, 384, 128, 7);
    validateQ4(w, 'w');
    const gp = paddedGroups(384, 128);
    const s = Array.from(w.scales.data as Uint16Array, f16ToF32);
    for (let g = 0; g < gp; g++) {
      for (let o = 0; o < 64; o++) {
        const v = s[g * 64 + o]!;
        if (g < 3) expect(v >= 0.00199 && v <= 0.0201).toBe(true);
        else expect(v).toBe(0);
      }
    }
    const d = dequantizeQ4(w).data;
    expect(d.every((x) => Math.abs(x) <= 0.02 * 15 + 1e-6)).toBe(true);
    const nibbles = new Set<number>();
    for (const word of w.qweight) for (let j = 0; j < 4; j++) nibbles.add((word >> (4 * j)) & 15);
    expect(nibbles.size).toBe(16);
  });

  it('fp16: mean and standard deviation as asked', () => {
    const t = randomF16([200_000], 0.1, 1, 3);
    const v = Array.from(t.data as Uint16Array, f16ToF32);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean - 1)).toBeLessThan(0.005);
    expect(Math.abs(std - 0.1)).toBeLessThan(0.005);
  });

  it('the tiny in-memory model encodes an image and decodes with finite logits', () => {
    const { weights, params } = buildRandomModel('tiny', BENCH_SHAPES.tiny!);
    expect(params).toBeGreaterThan(0);
    const be = createRefBackend();
    const s = weights.imageSize!;
    const feats = weights.encodeImage(be, { dtype: 'f32', shape: [3, s, s], data: new Float32Array(3 * s * s).fill(0.5) });
    expect(feats.shape).toEqual([weights.tokensPerImage, 128]);
    const logits = weights.forwardTokens(be, [1, 5, 9], weights.newCache(4));
    expect(logits.data.every(Number.isFinite)).toBe(true);
  });
});
