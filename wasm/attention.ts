// attention: softmax(q·kᵀ·scale)·v per query row and head over a preallocated KV cache, GQA
// (query head h reads KV head ⌊h / (heads/kvHeads)⌋), causal or not. Must match
// src/ref/attention.ts (float64 scores and softmax); NMSE 5e-14 .. 5e-13 at model shapes.
//
// Flash-style: keys in blocks of B with an online softmax (running max m, running sum l; per
// block acc ← acc·e^{m_old − m_new} + Σ p·v), so memory is O(B) per query whatever kvLen. The
// accumulator is the query's own `out` row; per-unit scratch (host-provided, SLOT floats per unit:
// m, l, the block's rescale c, then B scores/probabilities) holds the rest. Units are
// (row, head) pairs numbered head-major (see attention_f32). exp: vmath.ts (≤ 1 ulp).
//
// Units of one KV head that follow each other in a thread's range go in tiles of 4 (GQA heads
// of a decode row, or four rows of one head) that share every k and v load (attention_tiles.ts:
// 4×2 score and 4×8-column p·v register tiles); the rest, and decode without GQA, go alone
// (1×4 and 1×32). Both form every score and accumulator the same way (keys past a query's
// causal limit enter its tile's p·v with p = 0, an exact no-op), so results do not depend on
// tiling, ranges or the thread count.
//
// Versions (1 thread, machine shared with other jobs so ±10%, best of 5..200 runs; f32x4
// mul+add ceiling (wasm/ceiling.ts) 28.6 GFLOP/s):
//   v1 tiles of 4 (3-unit tiles padded by repeating a unit, its softmax step run once):
//      SigLIP m=729, 16 heads × 72: 145..170 ms (15..16 GFLOP/s); decode m=1, kv 700,
//      32/8 × 128: 0.60..0.67 ms (17..19 GFLOP/s); decode 20/20 × 128: 0.63..1.3 ms (14 MB of
//      k and v per call: memory-bound); prefill m=64 at 37, 32/8: 3.6 ms (20 GFLOP/s).
//   v2 pairs (2×4 scores reduced and stored as one vector, 2×16 p·v): 5..9% slower than v1.
//   v3 B = 128: 5..10% slower (L1). v4 (this) = v1 without the padding (leftovers go alone):
//      the same speed and bit for bit the same results as v1.
//   With one head (k rows contiguous) the same code reaches 21.5 GFLOP/s: SigLIP's 4.6 KB row
//   stride across 16 heads costs about a quarter.
//   2 threads (v4, a quieter moment): SigLIP 118 ms, decode 32/8 0.51 ms, decode 20/20 0.85 ms.

import { pv1, pv4, scores1, scores4 } from './attention_tiles';
import { hsum } from './simd';
import { exp1, exp4 } from './vmath';

// @ts-ignore: decorator
@inline const B: i32 = 64;
// @ts-ignore: decorator
@inline const SLOT: i32 = B + 4;

@inline function slot(scratch: usize, u: i32): usize {
  return scratch + ((<usize>u * SLOT) << 2);
}

/**
 * Online softmax step of one query over its n visible scores of this block (n ≤ 0: none): the
 * scores become p = e^{s − m_new} (zeros up to nb), l ← l·c + Σp with c = e^{m_old − m_new}.
 */
function softmaxStep(sl: usize, n: i32, nb: i32): void {
  const s = sl + 16;
  if (n <= 0) {
    store<f32>(sl, 1, 8);
    for (let t = 0; t < nb; t++) store<f32>(s + (<usize>t << 2), 0);
    return;
  }
  let mv = f32x4.splat(-Infinity);
  let t = 0;
  for (; t + 4 <= n; t += 4) mv = f32x4.pmax(mv, v128.load(s + (<usize>t << 2)));
  let mx = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; t < n; t++) mx = max(mx, load<f32>(s + (<usize>t << 2)));
  const mOld = load<f32>(sl);
  const mNew = max(mOld, mx);
  const c = exp1(mOld - mNew);
  const mn = f32x4.splat(mNew);
  let acc = f32x4.splat(0);
  t = 0;
  for (; t + 4 <= n; t += 4) {
    const p = exp4(f32x4.sub(v128.load(s + (<usize>t << 2)), mn));
    v128.store(s + (<usize>t << 2), p);
    acc = f32x4.add(acc, p);
  }
  let sum = hsum(acc);
  for (; t < n; t++) {
    const p = exp1(load<f32>(s + (<usize>t << 2)) - mNew);
    store<f32>(s + (<usize>t << 2), p);
    sum += p;
  }
  for (; t < nb; t++) store<f32>(s + (<usize>t << 2), 0);
  store<f32>(sl, mNew);
  store<f32>(sl, load<f32>(sl, 4) * c + sum, 4);
  store<f32>(sl, c, 8);
}

/** Zero the accumulator and reset m, l of one query. */
@inline function begin(oa: usize, sl: usize, d: i32): void {
  for (let c = 0; c < d; c++) store<f32>(oa + (<usize>c << 2), 0);
  store<f32>(sl, -Infinity);
  store<f32>(sl, 0, 4);
}

/** out ← acc / l (l = 0 only when nothing was visible: the zeros stay, as in the reference). */
@inline function finish(oa: usize, sl: usize, d: i32): void {
  const l = load<f32>(sl, 4);
  if (l == 0) return;
  const lv = f32x4.splat(l);
  let c = 0;
  for (; c + 4 <= d; c += 4) v128.store(oa + (<usize>c << 2), f32x4.div(v128.load(oa + (<usize>c << 2)), lv));
  for (; c < d; c++) store<f32>(oa + (<usize>c << 2), load<f32>(oa + (<usize>c << 2)) / l);
}

/** The q or out row of unit u = head·m + row: (row·heads + head)·d. */
@inline function at(base: usize, u: i32, m: i32, heads: i32, d: i32): usize {
  return base + ((<usize>((u % m) * heads + u / m) * d) << 2);
}

/** Keys a query unit sees: [0, qStart + row] when causal, else all kvLen. */
@inline function visible(u: i32, m: i32, kvLen: i32, qStart: i32, causal: bool): i32 {
  return causal ? min(kvLen, qStart + u % m + 1) : kvLen;
}

/** One query unit alone: decode without GQA, and the 1..3 units a KV head's run leaves over. */
function single(oa: usize, qa: usize, sa: usize, kb: usize, vb: usize, kvw: usize, vis: i32, d: i32, scale: f32): void {
  begin(oa, sa, d);
  for (let t0 = 0; t0 < vis; t0 += B) {
    const nb = min(B, vis - t0);
    scores1(qa, sa, kb, kvw, d, scale, t0, nb);
    softmaxStep(sa, nb, nb);
    pv1(oa, sa, vb, kvw, d, t0, nb);
  }
  finish(oa, sa, d);
}

/** Units ua..ud (the same KV head) together, sharing each k and v load. */
function quad(oa: usize, ob: usize, oc: usize, od: usize, qa: usize, qb: usize, qc: usize, qd: usize, sa: usize, sb: usize, sc: usize, sd: usize, kb: usize, vb: usize, kvw: usize, va: i32, vbis: i32, vc: i32, vd: i32, d: i32, scale: f32): void {
  const most = max(max(va, vbis), max(vc, vd));
  begin(oa, sa, d); begin(ob, sb, d); begin(oc, sc, d); begin(od, sd, d);
  for (let t0 = 0; t0 < most; t0 += B) {
    const nb = min(B, most - t0);
    scores4(qa, qb, qc, qd, sa, sb, sc, sd, kb, kvw, d, scale, t0, nb);
    softmaxStep(sa, min(nb, va - t0), nb);
    softmaxStep(sb, min(nb, vbis - t0), nb);
    softmaxStep(sc, min(nb, vc - t0), nb);
    softmaxStep(sd, min(nb, vd - t0), nb);
    pv4(oa, ob, oc, od, sa, sb, sc, sd, vb, kvw, d, t0, nb);
  }
  finish(oa, sa, d); finish(ob, sb, d); finish(oc, sc, d); finish(od, sd, d);
}

/** Unit u alone (n = 1) or units u..u+3 (n = 4), reading KV head g. */
function group(out: usize, q: usize, k: usize, v: usize, scratch: usize, m: i32, kvLen: i32, qStart: i32, heads: i32, kvHeads: i32, d: i32, causal: bool, scale: f32, g: i32, u: i32, n: i32): void {
  const kvw = <usize>(kvHeads * d) << 2;
  const kb = k + (<usize>(g * d) << 2), vb = v + (<usize>(g * d) << 2);
  const oa = at(out, u, m, heads, d), qa = at(q, u, m, heads, d), sa = slot(scratch, u);
  const va = visible(u, m, kvLen, qStart, causal);
  if (n == 1) {
    single(oa, qa, sa, kb, vb, kvw, va, d, scale);
    return;
  }
  const ob = at(out, u + 1, m, heads, d), qb = at(q, u + 1, m, heads, d), sb = slot(scratch, u + 1);
  const vbis = visible(u + 1, m, kvLen, qStart, causal);
  const oc = at(out, u + 2, m, heads, d), qc = at(q, u + 2, m, heads, d), sc = slot(scratch, u + 2);
  const od = at(out, u + 3, m, heads, d), qd = at(q, u + 3, m, heads, d), sd = slot(scratch, u + 3);
  quad(oa, ob, oc, od, qa, qb, qc, qd, sa, sb, sc, sd, kb, vb, kvw, va, vbis, visible(u + 2, m, kvLen, qStart, causal), visible(u + 3, m, kvLen, qStart, causal), d, scale);
}

/**
 * out (m, heads·d) = softmax(q (m, heads·d) · kᵀ · scale) · v over cache rows [0, kvLen) of
 * k, v (capacity, kvHeads·d); query row r at position qStart + r; causal: keys ≤ its position.
 * Units [start, end) of (row, head) pairs numbered head-major, u = head·m + row, so that the
 * host's contiguous ranges give each thread whole heads (equal work under a causal mask).
 * Consecutive units of one KV head form the tiles. scratch: SLOT = 68 floats per unit.
 */
export function attention_f32(out: usize, q: usize, k: usize, v: usize, scratch: usize, m: i32, kvLen: i32, qStart: i32, heads: i32, kvHeads: i32, d: i32, causal: i32, scale: f32, start: i32, end: i32): void {
  const per = (heads / kvHeads) * m; // consecutive units per KV head
  let u = start;
  while (u < end) {
    const g = u / per;
    const stop = min(end, (g + 1) * per);
    for (; u + 4 <= stop; u += 4) group(out, q, k, v, scratch, m, kvLen, qStart, heads, kvHeads, d, causal != 0, scale, g, u, 4);
    for (; u < stop; u++) group(out, q, k, v, scratch, m, kvLen, qStart, heads, kvHeads, d, causal != 0, scale, g, u, 1);
  }
}
