// attention: softmax(q·kᵀ·scale)·v per query row and head over a preallocated KV cache, GQA
// (query head h reads KV head ⌊h / (heads/kvHeads)⌋), causal or not. Must match
// src/ref/attention.ts (float64 scores and softmax).
//
// Flash-style: keys in blocks of B with an online softmax (running max m, running sum l; at each
// block acc ← acc·e^{m_old − m_new} + Σ p·v), so memory is O(B) per query whatever kvLen. The
// accumulator is the query's own `out` row; per-unit scratch (host-provided, SLOT floats per unit:
// m, l, the block's rescale c, then B scores/probabilities) holds the rest. Units are
// (row, head) pairs numbered head-major (see attention_f32).
//
// Query vectors that read the same KV head are processed as tiles of 4 (GQA heads of one row,
// or 4 rows of one head), sharing every k and v load: scores in a 4×2 register tile, p·v in 4×8.
// A lone query (decode without GQA) uses 1×4 keys and 1×32 values. Every score is the same dot
// (lane l sums d ≡ l mod 4, lanes (l0+l2)+(l1+l3), scalar d tail, × scale) in every path, and
// every accumulator sees the same sequence of operations (keys a query may not see enter with
// p = 0, an exact no-op), so results do not depend on tiling, ranges or thread count.
// exp: vmath.ts (≤ 1.5 ulp). Short tiles (3 members) are padded by repeating the last member:
// its scores and accumulators are recomputed identically; its softmax step runs once.
//
// Versions (1 thread, this machine, shared): v1 this, B = 64:
//   decode m=1, kvLen 700, 32 heads / 8 kv × 128:  see ops_attention.ts header for figures.

import { hsum } from './simd';
import { exp1, exp4 } from './vmath';

// @ts-ignore: decorator
@inline const B: i32 = 64;
// @ts-ignore: decorator
@inline const SLOT: i32 = B + 4;

@inline function slot(scratch: usize, u: i32): usize {
  return scratch + ((<usize>u * SLOT) << 2);
}

/** Scalar d tail of one dot plus the vector part, × scale: the one way every score is formed. */
@inline function score(acc: v128, qa: usize, ka: usize, d4: i32, d: i32, scale: f32): f32 {
  let s: f32 = 0;
  for (let c = d4; c < d; c++) s += load<f32>(qa + (<usize>c << 2)) * load<f32>(ka + (<usize>c << 2));
  return (hsum(acc) + s) * scale;
}

/** Scores of 4 query rows against keys [t0, t0 + nb) (rows kb + t·kvw) into each slot. */
function scores4(qa: usize, qb: usize, qc: usize, qd: usize, sa: usize, sb: usize, sc: usize, sd: usize, kb: usize, kvw: usize, d: i32, scale: f32, t0: i32, nb: i32): void {
  const d4 = d & ~3;
  let t = 0;
  for (; t + 2 <= nb; t += 2) {
    const k0 = kb + <usize>(t0 + t) * kvw, k1 = k0 + kvw;
    let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, e0 = a0, e1 = a0;
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>c << 2;
      const x0 = v128.load(k0 + o), x1 = v128.load(k1 + o);
      let y = v128.load(qa + o); a0 = f32x4.add(a0, f32x4.mul(y, x0)); a1 = f32x4.add(a1, f32x4.mul(y, x1));
      y = v128.load(qb + o); b0 = f32x4.add(b0, f32x4.mul(y, x0)); b1 = f32x4.add(b1, f32x4.mul(y, x1));
      y = v128.load(qc + o); c0 = f32x4.add(c0, f32x4.mul(y, x0)); c1 = f32x4.add(c1, f32x4.mul(y, x1));
      y = v128.load(qd + o); e0 = f32x4.add(e0, f32x4.mul(y, x0)); e1 = f32x4.add(e1, f32x4.mul(y, x1));
    }
    const so = (<usize>t << 2) + 16;
    store<f32>(sa + so, score(a0, qa, k0, d4, d, scale)); store<f32>(sa + so, score(a1, qa, k1, d4, d, scale), 4);
    store<f32>(sb + so, score(b0, qb, k0, d4, d, scale)); store<f32>(sb + so, score(b1, qb, k1, d4, d, scale), 4);
    store<f32>(sc + so, score(c0, qc, k0, d4, d, scale)); store<f32>(sc + so, score(c1, qc, k1, d4, d, scale), 4);
    store<f32>(sd + so, score(e0, qd, k0, d4, d, scale)); store<f32>(sd + so, score(e1, qd, k1, d4, d, scale), 4);
  }
  if (t < nb) {
    const k0 = kb + <usize>(t0 + t) * kvw;
    let a0 = f32x4.splat(0), b0 = a0, c0 = a0, e0 = a0;
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>c << 2;
      const x0 = v128.load(k0 + o);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(qa + o), x0));
      b0 = f32x4.add(b0, f32x4.mul(v128.load(qb + o), x0));
      c0 = f32x4.add(c0, f32x4.mul(v128.load(qc + o), x0));
      e0 = f32x4.add(e0, f32x4.mul(v128.load(qd + o), x0));
    }
    const so = (<usize>t << 2) + 16;
    store<f32>(sa + so, score(a0, qa, k0, d4, d, scale));
    store<f32>(sb + so, score(b0, qb, k0, d4, d, scale));
    store<f32>(sc + so, score(c0, qc, k0, d4, d, scale));
    store<f32>(sd + so, score(e0, qd, k0, d4, d, scale));
  }
}

/** Scores of one query row against keys [t0, t0 + nb), four keys at a time. */
function scores1(qa: usize, sa: usize, kb: usize, kvw: usize, d: i32, scale: f32, t0: i32, nb: i32): void {
  const d4 = d & ~3;
  let t = 0;
  for (; t + 4 <= nb; t += 4) {
    const k0 = kb + <usize>(t0 + t) * kvw, k1 = k0 + kvw, k2 = k1 + kvw, k3 = k2 + kvw;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>c << 2;
      const y = v128.load(qa + o);
      a0 = f32x4.add(a0, f32x4.mul(y, v128.load(k0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(y, v128.load(k1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(y, v128.load(k2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(y, v128.load(k3 + o)));
    }
    const so = (<usize>t << 2) + 16;
    store<f32>(sa + so, score(a0, qa, k0, d4, d, scale));
    store<f32>(sa + so, score(a1, qa, k1, d4, d, scale), 4);
    store<f32>(sa + so, score(a2, qa, k2, d4, d, scale), 8);
    store<f32>(sa + so, score(a3, qa, k3, d4, d, scale), 12);
  }
  for (; t < nb; t++) {
    const k0 = kb + <usize>(t0 + t) * kvw;
    let a0 = f32x4.splat(0);
    for (let c = 0; c < d4; c += 4) a0 = f32x4.add(a0, f32x4.mul(v128.load(qa + (<usize>c << 2)), v128.load(k0 + (<usize>c << 2))));
    store<f32>(sa + 16 + (<usize>t << 2), score(a0, qa, k0, d4, d, scale));
  }
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

/** acc ← acc·c + Σ_t p_t·v_t for 4 query rows (out rows oa..od, slots sa..sd). */
function pv4(oa: usize, ob: usize, oc: usize, od: usize, sa: usize, sb: usize, sc: usize, sd: usize, vb: usize, kvw: usize, d: i32, t0: i32, nb: i32): void {
  const ca = f32x4.splat(load<f32>(sa, 8)), cb = f32x4.splat(load<f32>(sb, 8));
  const cc = f32x4.splat(load<f32>(sc, 8)), cd = f32x4.splat(load<f32>(sd, 8));
  const d4 = d & ~3;
  let c = 0;
  for (; c + 8 <= d4; c += 8) {
    const o = <usize>c << 2;
    let a0 = f32x4.mul(v128.load(oa + o), ca), a1 = f32x4.mul(v128.load(oa + o, 16), ca);
    let b0 = f32x4.mul(v128.load(ob + o), cb), b1 = f32x4.mul(v128.load(ob + o, 16), cb);
    let c0 = f32x4.mul(v128.load(oc + o), cc), c1 = f32x4.mul(v128.load(oc + o, 16), cc);
    let e0 = f32x4.mul(v128.load(od + o), cd), e1 = f32x4.mul(v128.load(od + o, 16), cd);
    for (let t = 0; t < nb; t++) {
      const vr = vb + <usize>(t0 + t) * kvw + o;
      const x0 = v128.load(vr), x1 = v128.load(vr, 16);
      const so = (<usize>t << 2) + 16;
      let p = v128.load32_splat(sa + so); a0 = f32x4.add(a0, f32x4.mul(p, x0)); a1 = f32x4.add(a1, f32x4.mul(p, x1));
      p = v128.load32_splat(sb + so); b0 = f32x4.add(b0, f32x4.mul(p, x0)); b1 = f32x4.add(b1, f32x4.mul(p, x1));
      p = v128.load32_splat(sc + so); c0 = f32x4.add(c0, f32x4.mul(p, x0)); c1 = f32x4.add(c1, f32x4.mul(p, x1));
      p = v128.load32_splat(sd + so); e0 = f32x4.add(e0, f32x4.mul(p, x0)); e1 = f32x4.add(e1, f32x4.mul(p, x1));
    }
    v128.store(oa + o, a0); v128.store(oa + o, a1, 16);
    v128.store(ob + o, b0); v128.store(ob + o, b1, 16);
    v128.store(oc + o, c0); v128.store(oc + o, c1, 16);
    v128.store(od + o, e0); v128.store(od + o, e1, 16);
  }
  for (; c < d; c += 4) pvNarrow(oa, ob, oc, od, sa, sb, sc, sd, vb, kvw, d, t0, nb, c);
}

/** One 4-wide column block at c (or the < 4 scalar columns at the end) for 4 query rows. */
function pvNarrow(oa: usize, ob: usize, oc: usize, od: usize, sa: usize, sb: usize, sc: usize, sd: usize, vb: usize, kvw: usize, d: i32, t0: i32, nb: i32, c: i32): void {
  if (c + 4 <= d) {
    const o = <usize>c << 2;
    let a = f32x4.mul(v128.load(oa + o), v128.load32_splat(sa, 8)), b = f32x4.mul(v128.load(ob + o), v128.load32_splat(sb, 8));
    let e = f32x4.mul(v128.load(oc + o), v128.load32_splat(sc, 8)), f = f32x4.mul(v128.load(od + o), v128.load32_splat(sd, 8));
    for (let t = 0; t < nb; t++) {
      const x = v128.load(vb + <usize>(t0 + t) * kvw + o);
      const so = (<usize>t << 2) + 16;
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(sa + so), x));
      b = f32x4.add(b, f32x4.mul(v128.load32_splat(sb + so), x));
      e = f32x4.add(e, f32x4.mul(v128.load32_splat(sc + so), x));
      f = f32x4.add(f, f32x4.mul(v128.load32_splat(sd + so), x));
    }
    v128.store(oa + o, a); v128.store(ob + o, b); v128.store(oc + o, e); v128.store(od + o, f);
    return;
  }
  for (let j = c; j < d; j++) {
    pvScalar(oa, sa, vb, kvw, t0, nb, j); pvScalar(ob, sb, vb, kvw, t0, nb, j);
    pvScalar(oc, sc, vb, kvw, t0, nb, j);
    // A repeated member (od = oc) must not accumulate twice: this path updates row by row.
    if (od != oc) pvScalar(od, sd, vb, kvw, t0, nb, j);
  }
}

/** Column j of one query row, scalar (head dims that are not a multiple of 4). */
@inline function pvScalar(oa: usize, sa: usize, vb: usize, kvw: usize, t0: i32, nb: i32, j: i32): void {
  const o = <usize>j << 2;
  let a = load<f32>(oa + o) * load<f32>(sa, 8);
  for (let t = 0; t < nb; t++) a += load<f32>(sa + 16 + (<usize>t << 2)) * load<f32>(vb + <usize>(t0 + t) * kvw + o);
  store<f32>(oa + o, a);
}

/** acc ← acc·c + Σ_t p_t·v_t for one query row, 32 columns at a time. */
function pv1(oa: usize, sa: usize, vb: usize, kvw: usize, d: i32, t0: i32, nb: i32): void {
  const cv = v128.load32_splat(sa, 8);
  const d4 = d & ~3;
  let c = 0;
  for (; c + 32 <= d4; c += 32) {
    const o = <usize>c << 2;
    const oo = oa + o;
    let a0 = f32x4.mul(v128.load(oo), cv), a1 = f32x4.mul(v128.load(oo, 16), cv);
    let a2 = f32x4.mul(v128.load(oo, 32), cv), a3 = f32x4.mul(v128.load(oo, 48), cv);
    let a4 = f32x4.mul(v128.load(oo, 64), cv), a5 = f32x4.mul(v128.load(oo, 80), cv);
    let a6 = f32x4.mul(v128.load(oo, 96), cv), a7 = f32x4.mul(v128.load(oo, 112), cv);
    for (let t = 0; t < nb; t++) {
      const vr = vb + <usize>(t0 + t) * kvw + o;
      const p = v128.load32_splat(sa + 16 + (<usize>t << 2));
      a0 = f32x4.add(a0, f32x4.mul(p, v128.load(vr))); a1 = f32x4.add(a1, f32x4.mul(p, v128.load(vr, 16)));
      a2 = f32x4.add(a2, f32x4.mul(p, v128.load(vr, 32))); a3 = f32x4.add(a3, f32x4.mul(p, v128.load(vr, 48)));
      a4 = f32x4.add(a4, f32x4.mul(p, v128.load(vr, 64))); a5 = f32x4.add(a5, f32x4.mul(p, v128.load(vr, 80)));
      a6 = f32x4.add(a6, f32x4.mul(p, v128.load(vr, 96))); a7 = f32x4.add(a7, f32x4.mul(p, v128.load(vr, 112)));
    }
    v128.store(oo, a0); v128.store(oo, a1, 16); v128.store(oo, a2, 32); v128.store(oo, a3, 48);
    v128.store(oo, a4, 64); v128.store(oo, a5, 80); v128.store(oo, a6, 96); v128.store(oo, a7, 112);
  }
  for (; c + 4 <= d4; c += 4) {
    const o = <usize>c << 2;
    let a = f32x4.mul(v128.load(oa + o), cv);
    for (let t = 0; t < nb; t++) a = f32x4.add(a, f32x4.mul(v128.load32_splat(sa + 16 + (<usize>t << 2)), v128.load(vb + <usize>(t0 + t) * kvw + o)));
    v128.store(oa + o, a);
  }
  for (; c < d; c++) pvScalar(oa, sa, vb, kvw, t0, nb, c);
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

/** One query unit alone: decode without GQA, and tiles of 1 or 2. */
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

/** Units ua..ud reading KV head g (n of them distinct: n = 3 repeats uc as ud). */
function tile(out: usize, q: usize, k: usize, v: usize, scratch: usize, m: i32, kvLen: i32, qStart: i32, heads: i32, kvHeads: i32, d: i32, causal: bool, scale: f32, g: i32, ua: i32, ub: i32, uc: i32, ud: i32, n: i32): void {
  const kvw = <usize>(kvHeads * d) << 2;
  const kb = k + (<usize>(g * d) << 2), vb = v + (<usize>(g * d) << 2);
  const va = visible(ua, m, kvLen, qStart, causal), vbis = visible(ub, m, kvLen, qStart, causal);
  const qa = at(q, ua, m, heads, d), qb = at(q, ub, m, heads, d);
  const oa = at(out, ua, m, heads, d), ob = at(out, ub, m, heads, d);
  const sa = slot(scratch, ua), sb = slot(scratch, ub);
  if (n < 3) {
    single(oa, qa, sa, kb, vb, kvw, va, d, scale);
    if (n == 2) single(ob, qb, sb, kb, vb, kvw, vbis, d, scale);
    return;
  }
  if (n == 3) ud = uc;
  const vc = visible(uc, m, kvLen, qStart, causal), vd = visible(ud, m, kvLen, qStart, causal);
  const most = max(max(va, vbis), max(vc, vd));
  const qc = at(q, uc, m, heads, d), qd = at(q, ud, m, heads, d);
  const oc = at(out, uc, m, heads, d), od = at(out, ud, m, heads, d);
  const sc = slot(scratch, uc), sd = slot(scratch, ud);
  begin(oa, sa, d); begin(ob, sb, d); begin(oc, sc, d); begin(od, sd, d);
  for (let t0 = 0; t0 < most; t0 += B) {
    const nb = min(B, most - t0);
    scores4(qa, qb, qc, qd, sa, sb, sc, sd, kb, kvw, d, scale, t0, nb);
    softmaxStep(sa, min(nb, va - t0), nb);
    softmaxStep(sb, min(nb, vbis - t0), nb);
    softmaxStep(sc, min(nb, vc - t0), nb);
    if (n == 4) softmaxStep(sd, min(nb, vd - t0), nb);
    pv4(oa, ob, oc, od, sa, sb, sc, sd, vb, kvw, d, t0, nb);
  }
  finish(oa, sa, d); finish(ob, sb, d); finish(oc, sc, d);
  if (n == 4) finish(od, sd, d);
}

/**
 * out (m, heads·d) = softmax(q (m, heads·d) · kᵀ · scale) · v over cache rows [0, kvLen) of
 * k, v (capacity, kvHeads·d); query row r at position qStart + r; causal: keys ≤ its position.
 * Units [start, end) of (row, head) pairs numbered head-major, u = head·m + row, so that the
 * host's contiguous ranges give each thread whole heads (equal work under a causal mask).
 * Consecutive units of one KV head form the tiles. scratch: SLOT = 68 floats per unit.
 */
export function attention_f32(out: usize, q: usize, k: usize, v: usize, scratch: usize, m: i32, kvLen: i32, qStart: i32, heads: i32, kvHeads: i32, d: i32, causal: i32, scale: f32, start: i32, end: i32): void {
  if (start >= end) return;
  const group = heads / kvHeads;
  let n = 0, ua = 0, ub = 0, uc = 0;
  let g = (start / m) / group;
  for (let u = start; u < end; u++) {
    const gu = (u / m) / group;
    if (gu != g) {
      if (n > 0) tile(out, q, k, v, scratch, m, kvLen, qStart, heads, kvHeads, d, causal != 0, scale, g, ua, ub, uc, uc, n);
      n = 0;
      g = gu;
    }
    if (n == 3) {
      tile(out, q, k, v, scratch, m, kvLen, qStart, heads, kvHeads, d, causal != 0, scale, g, ua, ub, uc, u, 4);
      n = 0;
    } else {
      if (n == 0) ua = u; else if (n == 1) ub = u; else uc = u;
      n++;
    }
  }
  if (n > 0) tile(out, q, k, v, scratch, m, kvLen, qStart, heads, kvHeads, d, causal != 0, scale, g, ua, ub, uc, uc, n);
}
