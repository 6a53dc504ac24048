// The register tiles of attention.ts over one block of keys: q·k scores (4 queries × 2 keys, or
// 1 × 4) and p·v accumulation (4 queries × 8 columns, or 1 × 32). A unit's scratch slot holds
// [m, l, c, ·] then the block's scores, later its probabilities, at +16 bytes.
// Every score is formed one way, (hsum(acc) + scalar d tail) × scale with lane l summing
// d ≡ l mod 4 and hsum's pairing (l0+l2)+(l1+l3); every accumulator as acc·c, then + p_t·v_t in
// key order. So a unit's results are the same in a tile of 4 or alone.

import { hsum } from './simd';

/** Scalar d tail (columns [d4, d)) of one dot. */
@inline function dtail(qa: usize, ka: usize, d4: i32, d: i32): f32 {
  let s: f32 = 0;
  for (let c = d4; c < d; c++) s += load<f32>(qa + (<usize>c << 2)) * load<f32>(ka + (<usize>c << 2));
  return s;
}

/** The one way every score is formed: (hsum(acc) + d tail) × scale, hsum as simd.ts's. */
@inline function score(acc: v128, qa: usize, ka: usize, d4: i32, d: i32, scale: f32): f32 {
  return (hsum(acc) + dtail(qa, ka, d4, d)) * scale;
}

/** Four scores of one query and keys k0..k3 as one vector: score() lane by lane. */
@inline function score4(a0: v128, a1: v128, a2: v128, a3: v128, qa: usize, k0: usize, k1: usize, k2: usize, k3: usize, d4: i32, d: i32, scale: f32): v128 {
  // Lane i = (a_i0 + a_i2) + (a_i1 + a_i3), the pairing of hsum.
  const x = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 1, 4, 5), v128.shuffle<f32>(a0, a1, 2, 3, 6, 7));
  const y = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 1, 4, 5), v128.shuffle<f32>(a2, a3, 2, 3, 6, 7));
  let h = f32x4.add(v128.shuffle<f32>(x, y, 0, 2, 4, 6), v128.shuffle<f32>(x, y, 1, 3, 5, 7));
  if (d4 < d) {
    let t = f32x4.splat(dtail(qa, k0, d4, d));
    t = f32x4.replace_lane(t, 1, dtail(qa, k1, d4, d));
    t = f32x4.replace_lane(t, 2, dtail(qa, k2, d4, d));
    t = f32x4.replace_lane(t, 3, dtail(qa, k3, d4, d));
    h = f32x4.add(h, t);
  } else {
    h = f32x4.add(h, f32x4.splat(0));
  }
  return f32x4.mul(h, f32x4.splat(scale));
}

/** Scores of 4 query rows against keys [t0, t0 + nb) (rows kb + t·kvw) into each slot. */
export function scores4(qa: usize, qb: usize, qc: usize, qd: usize, sa: usize, sb: usize, sc: usize, sd: usize, kb: usize, kvw: usize, d: i32, scale: f32, t0: i32, nb: i32): void {
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
export function scores1(qa: usize, sa: usize, kb: usize, kvw: usize, d: i32, scale: f32, t0: i32, nb: i32): void {
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
    v128.store(sa + (<usize>t << 2) + 16, score4(a0, a1, a2, a3, qa, k0, k1, k2, k3, d4, d, scale));
  }
  for (; t < nb; t++) {
    const k0 = kb + <usize>(t0 + t) * kvw;
    let a0 = f32x4.splat(0);
    for (let c = 0; c < d4; c += 4) a0 = f32x4.add(a0, f32x4.mul(v128.load(qa + (<usize>c << 2)), v128.load(k0 + (<usize>c << 2))));
    store<f32>(sa + (<usize>t << 2) + 16, score(a0, qa, k0, d4, d, scale));
  }
}

/** acc ← acc·c + Σ_t p_t·v_t for 4 query rows (out rows oa..od, slots sa..sd). */
export function pv4(oa: usize, ob: usize, oc: usize, od: usize, sa: usize, sb: usize, sc: usize, sd: usize, vb: usize, kvw: usize, d: i32, t0: i32, nb: i32): void {
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
    pvScalar(oc, sc, vb, kvw, t0, nb, j); pvScalar(od, sd, vb, kvw, t0, nb, j);
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
export function pv1(oa: usize, sa: usize, vb: usize, kvw: usize, d: i32, t0: i32, nb: i32): void {
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

