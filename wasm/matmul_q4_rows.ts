// matmul_q4 for several x rows (prefill, image tokens): same arguments, work units (row blocks
// of 4 outputs) and results as matmul_q4_x16 in wasm/matmul_q4.ts — bit for bit: the integer
// dots are exact and each output gets the same f32 updates in the same block order — but
// organised for reuse. Per row block and 128-wide block of K, the 4 weight rows are unpacked
// once to int16 (natural K order) into the thread's scratch slot (1 KiB, in L1), then every
// pair of x rows is dotted with them in a 2 x 4 register tile: per 8 values of K, 2 x loads,
// 4 weight loads, 8 i32x4.dot_i16x8_s and 8 adds for 64 multiply-adds, against 10 unpacking
// ops more per 64 in the one-row kernel. Partial sums per block go through `out`.
// Scratch: (n/4) KiB; a thread uses the slot of the first row block of its range.

import { CONSTS } from './matmul_q4';
import { hsum4_i32 } from './simd';

const SLOT = 1024; // bytes: 4 rows × 128 values × 2

/** Unpack rows r = 0..3 of row block at wrb, K [kb, kb + qb) → i16 at slot (row r at r·256 bytes). */
@inline function unpack16(slot: usize, wrb: usize, kb: i32, qb: i32): void {
  for (let c = 0; c < qb; c += 32) {
    const kk = kb + c;
    const tile = wrb + <usize>((kk >> 6) << 7) + <usize>(((kk >> 5) & 1) << 4);
    for (let r = 0; r < 4; r++) {
      const v = v128.load(tile + (<usize>r << 5));
      const d = slot + (<usize>r << 8) + (<usize>c << 1);
      v128.store(d, v128.and(v, v128.load(CONSTS)));
      v128.store(d, v128.and(i16x8.shr_u(v, 4), v128.load(CONSTS)), 16);
      v128.store(d, v128.and(i16x8.shr_u(v, 8), v128.load(CONSTS)), 32);
      v128.store(d, i16x8.shr_u(v, 12), 48);
    }
  }
}

/** lane r = Σ lanes of a_r, as f32. */
@inline export function sum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  return f32x4.convert_i32x4_s(hsum4_i32(a0, a1, a2, a3));
}

/** out4 (outputs o..o+3 of x row i) += d·(s4·dots + z4·xsum), the one-row kernel's update. */
@inline export function update(out: usize, i: i32, n: i32, o: i32, dots: v128, s4: v128, z4: v128, xd: usize, xs: usize, nb: i32, b: i32, first: bool): void {
  const xo = (<usize>i * nb + b) << 2;
  const t = f32x4.add(f32x4.mul(s4, dots), f32x4.mul(z4, f32x4.splat(<f32>load<i32>(xs + xo))));
  const p = out + ((<usize>i * n + o) << 2);
  const prev = first ? f32x4.splat(0) : v128.load(p);
  v128.store(p, f32x4.add(prev, f32x4.mul(t, f32x4.splat(load<f32>(xd + xo)))));
}

export function matmul_q4_x16_rows(
  out: usize, xq: usize, xd: usize, xs: usize, qw: usize, sc: usize, sz: usize, bias: usize, scr: usize,
  m: i32, k: i32, n: i32, gs: i32, rb0: i32, rb1: i32,
): void {
  const qb = gs < 128 ? gs : 128;
  const nb = k / qb;
  const bpg = gs / qb;
  const slot = scr + <usize>rb0 * SLOT;
  const xrow = <usize>k << 1;
  for (let rb = rb0; rb < rb1; rb++) {
    const wrb = qw + <usize>rb * k * 2;
    const o = rb * 4;
    for (let b = 0; b < nb; b++) {
      unpack16(slot, wrb, b * qb, qb);
      const so = (<usize>rb * (k / gs) + <usize>(b / bpg)) * 32;
      const s4 = v128.load(sc + so), z4 = v128.load(sz + so);
      const first = b == 0;
      let i = 0;
      for (; i + 2 <= m; i += 2) {
        let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
        let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
        const x0 = xq + <usize>i * xrow + (<usize>(b * qb) << 1);
        const x1 = x0 + xrow;
        for (let p = 0; p < qb; p += 8) {
          const po = <usize>p << 1;
          const u = v128.load(x0 + po), v = v128.load(x1 + po);
          let w = v128.load(slot + po);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(w, u)); a10 = i32x4.add(a10, i32x4.dot_i16x8_s(w, v));
          w = v128.load(slot + po, 256);
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(w, u)); a11 = i32x4.add(a11, i32x4.dot_i16x8_s(w, v));
          w = v128.load(slot + po, 512);
          a02 = i32x4.add(a02, i32x4.dot_i16x8_s(w, u)); a12 = i32x4.add(a12, i32x4.dot_i16x8_s(w, v));
          w = v128.load(slot + po, 768);
          a03 = i32x4.add(a03, i32x4.dot_i16x8_s(w, u)); a13 = i32x4.add(a13, i32x4.dot_i16x8_s(w, v));
        }
        update(out, i, n, o, sum4(a00, a01, a02, a03), s4, z4, xd, xs, nb, b, first);
        update(out, i + 1, n, o, sum4(a10, a11, a12, a13), s4, z4, xd, xs, nb, b, first);
      }
      if (i < m) {
        let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
        const x0 = xq + <usize>i * xrow + (<usize>(b * qb) << 1);
        for (let p = 0; p < qb; p += 8) {
          const po = <usize>p << 1;
          const u = v128.load(x0 + po);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(v128.load(slot + po), u));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(v128.load(slot + po, 256), u));
          a02 = i32x4.add(a02, i32x4.dot_i16x8_s(v128.load(slot + po, 512), u));
          a03 = i32x4.add(a03, i32x4.dot_i16x8_s(v128.load(slot + po, 768), u));
        }
        update(out, i, n, o, sum4(a00, a01, a02, a03), s4, z4, xd, xs, nb, b, first);
      }
    }
    if (bias != 0) {
      const b4 = v128.load(bias + (<usize>o << 2));
      for (let i = 0; i < m; i++) {
        const p = out + ((<usize>i * n + o) << 2);
        v128.store(p, f32x4.add(v128.load(p), b4));
      }
    }
  }
}
