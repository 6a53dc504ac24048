// Cross-backend op checks (ggml test-backend-ops style): a case is data — how to make seeded
// inputs at a real model shape, which arguments the op writes, a tolerance on the normalised
// mean squared error — and one runner compares any backend against the reference with
// sentinels around every output, NaN and infinity checks, and the first mismatches on failure.

import type { Backend, OpArgs, OpName } from '../backend.js';
import { run } from '../backend.js';
import { seededRandom } from '../sampling.js';
import { zeros, type F32Tensor } from '../tensor.js';

export type Rng = () => number;
export type Alloc = (shape: readonly number[]) => F32Tensor;

export interface OpCase<K extends OpName = OpName> {
  readonly name: string;
  readonly op: K;
  /** Seeded inputs; tensors the op writes are made with `alloc` (in the backend's memory, with sentinels). */
  make(rng: Rng, alloc: Alloc): OpArgs[K];
  /** Arguments the op writes (default ['out']). */
  readonly outputs?: readonly string[];
  /** Largest normalised mean squared error Σ(got−ref)² / Σref² accepted. */
  readonly nmse: number;
  readonly flops: number;
  readonly bytes: number;
}

export const caseOf = <K extends OpName>(c: OpCase<K>): OpCase => c as unknown as OpCase;

/**
 * Gaussian-ish values (sum of three uniforms, variance ≈ scale²), scaled. Seeded from `rng`,
 * drawn with an inline xorshift32 so that real-size weights take milliseconds, not seconds.
 */
export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = (Math.floor(rng() * 0xffffffff) | 1) >>> 0;
  const f = (2 * scale) / 0x100000000;
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < 3; j++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      t += s >>> 0;
    }
    a[i] = (t - 1.5 * 0x100000000) * f;
  }
  return a;
}

export function fill(t: F32Tensor, rng: Rng, scale = 1): F32Tensor {
  t.data.set(randn(rng, t.data.length, scale));
  return t;
}

const SENTINEL = 1234.5;
const PAD = 64;

/** An allocator that puts PAD sentinel floats before and after every tensor it makes. */
export function sentinelAlloc(be: Backend): { alloc: Alloc; intact: () => string | undefined } {
  const made: Float32Array[] = [];
  const alloc: Alloc = (shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const whole = (be.allocate?.([n + 2 * PAD]) ?? zeros([n + 2 * PAD])).data;
    whole.fill(SENTINEL);
    made.push(whole);
    const data = whole.subarray(PAD, PAD + n);
    data.fill(0);
    return { dtype: 'f32', shape: [...shape], data };
  };
  const intact = (): string | undefined => {
    for (const w of made) {
      for (let i = 0; i < PAD; i++) {
        if (w[i] !== SENTINEL) return `sentinel ${i - PAD} before an output was overwritten (${w[i]})`;
        if (w[w.length - 1 - i] !== SENTINEL) return `sentinel ${i} after an output was overwritten (${w[w.length - 1 - i]})`;
      }
    }
    return undefined;
  };
  return { alloc, intact };
}

export interface CaseResult {
  outputs: Float32Array[];
  ms: number;
  args: unknown;
}

/** Run a case on a backend with fresh seeded inputs; throws if a sentinel was hit. */
export function runCase(be: Backend, c: OpCase, seed: number): CaseResult {
  const { alloc, intact } = sentinelAlloc(be);
  const args = c.make(seededRandom(seed), alloc) as unknown as Record<string, unknown>;
  const t0 = performance.now();
  run(be, c.op, c.name, args as never);
  const ms = performance.now() - t0;
  const bad = intact();
  if (bad !== undefined) throw new Error(`${c.name} on ${be.name}: ${bad}`);
  return { outputs: (c.outputs ?? ['out']).map((k) => Float32Array.from((args[k] as F32Tensor).data)), ms, args };
}

/** Compare got with ref: undefined when acceptable, else a message with the first mismatches. */
export function judge(c: OpCase, ref: Float32Array[], got: Float32Array[]): string | undefined {
  for (let o = 0; o < ref.length; o++) {
    const r = ref[o]!;
    const g = got[o]!;
    let num = 0;
    let den = 0;
    const bad: string[] = [];
    for (let i = 0; i < r.length; i++) {
      const a = r[i]!;
      const b = g[i]!;
      if (Number.isNaN(b) && !Number.isNaN(a)) bad.push(`${i} ${a} NaN`);
      else if (!Number.isFinite(a) || !Number.isFinite(b)) {
        if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) bad.push(`${i} ${a} ${b}`);
      } else {
        num += (a - b) ** 2;
        den += a * a;
      }
    }
    const nmse = den === 0 ? (num === 0 ? 0 : Infinity) : num / den;
    if (bad.length > 0 || !(nmse <= c.nmse)) {
      const worst: string[] = [];
      for (let i = 0; i < r.length && worst.length < 8; i++) {
        if (Math.abs(r[i]! - g[i]!) > Math.sqrt(c.nmse) * (Math.abs(r[i]!) + 1e-3) || Number.isNaN(g[i]!)) worst.push(`${i} ${r[i]} ${g[i]}`);
      }
      return `${c.name}: output ${o} NMSE ${nmse.toExponential(3)} > ${c.nmse}${bad.length ? `; non-finite mismatches: ${bad.slice(0, 8).join(', ')}` : ''}\n  index ref got:\n  ${worst.join('\n  ')}`;
    }
  }
  return undefined;
}

/** Bitwise equality of two runs (thread-count independence). */
export function sameBits(a: Float32Array[], b: Float32Array[]): string | undefined {
  for (let o = 0; o < a.length; o++) {
    const x = new Uint32Array(a[o]!.buffer, a[o]!.byteOffset, a[o]!.length);
    const y = new Uint32Array(b[o]!.buffer, b[o]!.byteOffset, b[o]!.length);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `output ${o} index ${i}: ${a[o]![i]} vs ${b[o]![i]}`;
  }
  return undefined;
}
