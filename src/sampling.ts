// Choosing the next token from logits, as HF transformers' generate() does for VILA's
// run_vila.py: greedy when temperature is 0; otherwise the warpers in HF's order (temperature,
// then top-k, then top-p) and a draw from the softmax with a seeded generator.

import { InputError } from './errors.js';

export interface SamplingOptions {
  /** 0 means greedy (do_sample = temperature > 0, as run_vila.py sets it). */
  readonly temperature: number;
  /** Keep the k most likely tokens (0 = off). HF's default when sampling is 50. */
  readonly topK: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  readonly topP: number;
  /** Seed of the random generator; the same seed gives the same tokens. */
  readonly seed: number;
}

export function validateSampling(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw new InputError(`temperature must be ≥ 0, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new InputError(`top-k must be a whole number ≥ 0, got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new InputError(`top-p must be in (0, 1], got ${o.topP}`);
  if (!Number.isInteger(o.seed)) throw new InputError(`seed must be an integer, got ${o.seed}`);
}

/** sfc32, seeded through splitmix32: small, fast, and good enough for sampling. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** Index of the largest logit (the first one on ties, like torch.argmax). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export class Sampler {
  private readonly random: () => number;

  constructor(readonly options: SamplingOptions) {
    validateSampling(options);
    this.random = seededRandom(options.seed);
  }

  next(logits: Float32Array): number {
    const { temperature, topK, topP } = this.options;
    if (temperature === 0) return argmax(logits);
    // Candidates sorted by logit, descending (stable: lower id first on ties).
    let order = Array.from(logits.keys()).sort((x, y) => logits[y]! - logits[x]! || x - y);
    if (topK > 0 && topK < order.length) {
      // HF TopKLogitsWarper keeps every token whose logit is ≥ the k-th largest.
      const kth = logits[order[topK - 1]!]!;
      order = order.filter((i) => logits[i]! >= kth);
    }
    const max = logits[order[0]!]! / temperature;
    const weights = order.map((i) => Math.exp(logits[i]! / temperature - max));
    const total = weights.reduce((a, w) => a + w, 0);
    let keep = order.length;
    if (topP < 1) {
      // HF TopPLogitsWarper drops the tail whose cumulative probability is ≤ 1 − p, keeping ≥ 1.
      let tail = 0;
      for (let j = order.length - 1; j > 0; j--) {
        tail += weights[j]! / total;
        if (tail > 1 - topP) break;
        keep = j;
      }
    }
    const kept = weights.slice(0, keep).reduce((a, w) => a + w, 0);
    let r = this.random() * kept;
    for (let j = 0; j < keep; j++) {
      r -= weights[j]!;
      if (r < 0) return order[j]!;
    }
    return order[keep - 1]!;
  }
}
