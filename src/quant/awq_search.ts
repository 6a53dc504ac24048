// The two searches of AWQ (llm-awq awq/quantize/auto_scale.py and auto_clip.py, spec/awq.md
// §1.2–1.3), as plain functions over f32 arrays:
//  - scale: per input channel s = mean|x|^α (clamped ≥ 1e-4, normalised by √(max·min)), α on a
//    grid of 20; the loss is the MSE of the inspected module's output with Q(W·s)/s in place of W;
//  - clip: per (output row, group) a maximum |w| of m·(1 − i/20), i = 0..9; the loss is the mean
//    over up to 512 sampled tokens of (Σ_group x·Q(clamp(w)) − Σ_group x·w)².
// Q is fakeQuantize: exactly what the int4 file will hold, dequantized (spec §2.4), so the
// search scores the weights the kernels will read. Arithmetic is f32 where llm-awq's is the
// model dtype (fp16); losses are summed in f64.

import { run, type Backend } from '../backend.js';
import { f32 } from '../tensor.js';
import { fakeQuantize, type Q4ScaleDType } from './q4.js';

export interface AwqSettings {
  readonly groupSize: number;
  readonly scaleDtype: Q4ScaleDType;
  /** α ∈ {0, 1/grid, …, (grid−1)/grid} (llm-awq: 20). */
  readonly scaleGrid: number;
  /** Clip factors 1 − i/clipGrid for i < maxShrink·clipGrid (llm-awq: 20 and 0.5). */
  readonly clipGrid: number;
  readonly maxShrink: number;
  /** Tokens the clip loss samples, evenly strided (llm-awq: 512). */
  readonly clipTokens: number;
  /** Which searches run (llm-awq: both; AutoAWQ's apply_clip=False skips the clip). */
  readonly searchScales: boolean;
  readonly searchClip: boolean;
}

export const LLM_AWQ_SETTINGS: Omit<AwqSettings, 'groupSize'> = {
  scaleDtype: 'f16', scaleGrid: 20, clipGrid: 20, maxShrink: 0.5, clipTokens: 512, searchScales: true, searchClip: true,
};

/** A linear's weight (n outputs, k inputs) as a mutable f32 copy. */
export interface Weight {
  readonly data: Float32Array;
  readonly n: number;
  readonly k: number;
}

/** mean(|x|) of each of the c channels of x (T, c) (llm-awq get_act_scale). */
export function meanAbs(x: Float32Array, c: number): Float32Array {
  const acc = new Float64Array(c);
  const T = x.length / c;
  for (let t = 0; t < T; t++) for (let j = 0; j < c; j++) acc[j]! += Math.abs(x[t * c + j]!);
  return Float32Array.from(acc, (v) => v / T);
}

/** The candidate scales for one α: mean|x|^α clamped at 1e-4, divided by √(max·min). */
export function candidateScales(xMean: Float32Array, alpha: number): Float32Array {
  const s = Float32Array.from(xMean, (v) => Math.max(Math.pow(v, alpha), 1e-4));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of s) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const norm = Math.sqrt(hi * lo);
  for (let j = 0; j < s.length; j++) s[j] = s[j]! / norm;
  return s;
}

/** dst = Q(w·diag(s))·diag(s)⁻¹: what the module computes with once the scale is folded in. */
export function scaledFakeQuantize(w: Weight, s: Float32Array, st: AwqSettings, dst: Float32Array): void {
  const { n, k, data } = w;
  const tmp = new Float32Array(n * k);
  for (let o = 0; o < n; o++) for (let i = 0; i < k; i++) tmp[o * k + i] = data[o * k + i]! * s[i]!;
  fakeQuantize(tmp, n, k, st.groupSize, st.scaleDtype, dst);
  for (let o = 0; o < n; o++) for (let i = 0; i < k; i++) dst[o * k + i] = dst[o * k + i]! / s[i]!;
}

/** Mean of (a − b)², in f64. */
export function mse(a: Float32Array, b: Float32Array): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    acc += d * d;
  }
  return acc / a.length;
}

export interface ScaleResult {
  readonly scales: Float32Array;
  readonly alpha: number;
  /** Loss at each α of the grid; losses[0] (α = 0, all scales equal) is plain round-to-nearest. */
  readonly losses: number[];
}

/**
 * The scale search of one group of linears sharing an input x (T, k) whose per-channel mean
 * |x| is `xMean`. `evaluate(ws)` runs the inspected module with the fake-quantized weights
 * written into `ws` (one array per linear, same order) and returns its output; `reference`
 * is that output with the original weights.
 */
export function searchScale(
  xMean: Float32Array, linears: readonly Weight[], st: AwqSettings,
  evaluate: (ws: readonly Float32Array[]) => Float32Array, reference: Float32Array,
): ScaleResult {
  const losses: number[] = [];
  let best = { loss: Infinity, alpha: 0, scales: candidateScales(xMean, 0) };
  for (let g = 0; g < st.scaleGrid; g++) {
    const alpha = g / st.scaleGrid;
    const s = candidateScales(xMean, alpha);
    // New arrays for every candidate: a backend may keep its own copy of a weight keyed by its array.
    const ws = linears.map((l) => new Float32Array(l.n * l.k));
    linears.forEach((l, j) => scaledFakeQuantize(l, s, st, ws[j]!));
    const loss = mse(reference, evaluate(ws));
    losses.push(loss);
    if (loss < best.loss) best = { loss, alpha, scales: s };
  }
  return { scales: best.scales, alpha: best.alpha, losses };
}

/** Columns of w times s (a norm or previous linear is divided by s instead). */
export function scaleColumns(w: Weight, s: Float32Array): void {
  for (let o = 0; o < w.n; o++) for (let i = 0; i < w.k; i++) w.data[o * w.k + i] = w.data[o * w.k + i]! * s[i]!;
}

/** Rows of w divided by s (the linear before the scaled one: its outputs are the inputs scaled). */
export function divideRows(w: Weight, s: Float32Array): void {
  for (let o = 0; o < w.n; o++) for (let i = 0; i < w.k; i++) w.data[o * w.k + i] = w.data[o * w.k + i]! / s[o]!;
}

/** x (T, c) with each channel divided by s: the input the scaled linears now see. */
export function divideChannels(x: Float32Array, s: Float32Array): void {
  const c = s.length;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! / s[i % c]!;
}

export interface ClipResult {
  /** Per (row, group) the chosen maximum |w|, (n, k/G). */
  readonly maxVal: Float32Array;
  /** Sum over groups of the clip loss before and after (the loss with factor 1 is plain RTN). */
  readonly lossBefore: number;
  readonly lossAfter: number;
}

/**
 * The clip search of one linear w (n, k) with input x (T, k), then w clamped in place. The
 * per-group partial products are matmuls on `be` (x's group columns (T', G) against the
 * candidate group weights (n, G), a new array each time (backends may keep their own copy of a
 * weight keyed by its array).
 */
export function searchClip(be: Backend, w: Weight, x: Float32Array, st: AwqSettings): ClipResult {
  const { n, k, data } = w;
  const G = st.groupSize;
  const groups = k / G;
  const T = x.length / k;
  const step = Math.max(1, Math.floor(T / st.clipTokens));
  const Ts = Math.ceil(T / step);
  const xg = new Float32Array(Ts * G);
  const org = new Float32Array(Ts * n);
  const cur = new Float32Array(Ts * n);
  const wg = new Float32Array(n * G);
  const clamped = new Float32Array(n * G);
  const maxVal = new Float32Array(n * groups);
  let lossBefore = 0;
  let lossAfter = 0;
  const matmul = (out: Float32Array, weights: Float32Array): void => {
    run(be, 'matmul', 'awq.clip', { out: f32(out, [Ts, n]), x: f32(xg, [Ts, G]), w: f32(weights.slice(), [n, G]) });
  };
  for (let g = 0; g < groups; g++) {
    for (let t = 0; t < Ts; t++) xg.set(x.subarray(t * step * k + g * G, t * step * k + (g + 1) * G), t * G);
    const orgMax = new Float32Array(n);
    for (let o = 0; o < n; o++) {
      wg.set(data.subarray(o * k + g * G, o * k + (g + 1) * G), o * G);
      let m = 0;
      for (let i = 0; i < G; i++) m = Math.max(m, Math.abs(wg[o * G + i]!));
      orgMax[o] = m;
    }
    matmul(org, wg);
    const best = new Float64Array(n).fill(Infinity);
    const bestMax = Float32Array.from(orgMax);
    for (let is = 0; is < Math.floor(st.maxShrink * st.clipGrid); is++) {
      const factor = 1 - is / st.clipGrid;
      for (let o = 0; o < n; o++) {
        const mx = Math.fround(orgMax[o]! * factor);
        for (let i = 0; i < G; i++) clamped[o * G + i] = Math.min(mx, Math.max(-mx, wg[o * G + i]!));
      }
      fakeQuantize(clamped, n, G, G, st.scaleDtype, clamped);
      matmul(cur, clamped);
      for (let o = 0; o < n; o++) {
        let e = 0;
        for (let t = 0; t < Ts; t++) {
          const d = cur[t * n + o]! - org[t * n + o]!;
          e += d * d;
        }
        e /= Ts;
        if (is === 0) lossBefore += e;
        if (e < best[o]!) {
          best[o] = e;
          bestMax[o] = Math.fround(orgMax[o]! * factor);
        }
      }
    }
    for (let o = 0; o < n; o++) {
      lossAfter += best[o]!;
      maxVal[o * groups + g] = bestMax[o]!;
      const mx = bestMax[o]!;
      for (let i = o * k + g * G; i < o * k + (g + 1) * G; i++) data[i] = Math.min(mx, Math.max(-mx, data[i]!));
    }
  }
  return { maxVal, lossBefore, lossAfter };
}
