// Token choice: greedy is argmax (first on ties), sampling is reproducible from its seed, and
// top-k / top-p keep exactly the tokens HF's warpers keep.

import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Sampler, argmax } from '../../src/sampling.js';

const logits = Float32Array.from([1, 3, 2, 3, -1, 0.5]);

function histogram(s: Sampler, n: number): Map<number, number> {
  const h = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const t = s.next(logits);
    h.set(t, (h.get(t) ?? 0) + 1);
  }
  return h;
}

describe('sampling', () => {
  it('greedy picks the first maximum', () => {
    expect(argmax(logits)).toBe(1);
    expect(new Sampler({ temperature: 0, topK: 50, topP: 1, seed: 1 }).next(logits)).toBe(1);
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const s = new Sampler({ temperature: 1, topK: 0, topP: 1, seed });
      return Array.from({ length: 50 }, () => s.next(logits));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('top-k keeps the k largest (ties at the k-th included)', () => {
    const h = histogram(new Sampler({ temperature: 1, topK: 1, topP: 1, seed: 3 }), 400);
    expect([...h.keys()].sort()).toEqual([1, 3]); // logits 3 and 3 tie for first
    const h3 = histogram(new Sampler({ temperature: 1, topK: 3, topP: 1, seed: 3 }), 2000);
    expect([...h3.keys()].sort()).toEqual([1, 2, 3]);
  });

  it('top-p keeps the smallest head reaching p', () => {
    // softmax([1,3,2,3,-1,.5]): the two 3s hold ≈ 0.76 together, the 2 ≈ 0.10 more.
    const h = histogram(new Sampler({ temperature: 1, topK: 0, topP: 0.7, seed: 5 }), 2000);
    expect([...h.keys()].sort()).toEqual([1, 3]);
    const h2 = histogram(new Sampler({ temperature: 1, topK: 0, topP: 0.8, seed: 5 }), 2000);
    expect([...h2.keys()].sort()).toEqual([1, 2, 3]);
  });

  it('follows the softmax frequencies at temperature 1 and sharpens at low temperature', () => {
    const n = 20000;
    const h = histogram(new Sampler({ temperature: 1, topK: 0, topP: 1, seed: 11 }), n);
    const z = Array.from(logits).reduce((a, l) => a + Math.exp(l), 0);
    for (let i = 0; i < logits.length; i++) {
      expect(Math.abs((h.get(i) ?? 0) / n - Math.exp(logits[i]!) / z)).toBeLessThan(0.015);
    }
    const cold = histogram(new Sampler({ temperature: 0.05, topK: 0, topP: 1, seed: 11 }), 1000);
    expect((cold.get(1) ?? 0) + (cold.get(3) ?? 0)).toBe(1000);
  });

  it('rejects invalid options with a typed error', () => {
    expect(() => new Sampler({ temperature: -1, topK: 0, topP: 1, seed: 0 })).toThrow(InputError);
    expect(() => new Sampler({ temperature: 1, topK: 0, topP: 0, seed: 0 })).toThrow(InputError);
    expect(() => new Sampler({ temperature: 1, topK: 1.5, topP: 1, seed: 0 })).toThrow(InputError);
  });
});
