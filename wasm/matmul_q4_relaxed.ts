// matmul_q4, relaxed-SIMD build only: int8 activations and i16x8.relaxed_dot_i8x16_i7x16_s
// (16 multiply-adds, pair sums in i16 lanes, one pmaddubsw on x86), accumulated in i16 over a
// 128-wide block (≤ 8 pair sums of ≤ 2·15·127 per lane: no overflow) and widened once per block.
// The i32 form relaxed_dot_i8x16_i7x16_add_s measured 3x slower in V8 without AVX-VNNI (it
// rebuilds a constant of ones for pmaddwd at every use). The weight nibbles (0..15) are the 7-bit operand, so the result is fully
// defined. Must match src/ref/matmul_q4.ts matmul_q4_q8act(levels = 127) to f32 rounding; the
// cost of int8 activations against the exact op is ~0.6-0.8% relative L2 (vs ~1e-5 for the
// SIMD128 build's int16), the price of about twice the speed. In the SIMD128 build these
// exports trap; the host calls them only when it loaded the relaxed build.
//
// Layout of one 16-byte weight vector (spec/awq.md §2.3): byte 2j holds K offsets j (low
// nibble) and 8 + j (high), byte 2j + 1 holds 16 + j and 24 + j. So `v & 0x0F` lists K offsets
// [0, 16, 1, 17, ..., 7, 23] and the high nibbles [8, 24, 9, 25, ..., 15, 31]; quantize_x8
// stores each 32-wide chunk of x in exactly that order (xa then xb), so the dot products need
// no shuffle. Four output rows share the two x vectors of a chunk.

import { CONSTS } from './matmul_q4';
import { sum4, update } from './matmul_q4_rows';

/** Byte position, within its 32-byte chunk, of K offset c (0..31). */
@inline function slot(c: i32): i32 {
  return (((c >> 3) & 1) << 4) | ((c & 7) << 1) | (c >> 4);
}

/** Rows [r0, r1) of x (m,k) → int8 per block of qb (chunk-permuted), xd (m,k/qb) f32, xs (m,k/qb) i32 sums. */
export function quantize_x8(xq: usize, xd: usize, xs: usize, x: usize, k: i32, qb: i32, r0: i32, r1: i32): void {
  // Compiled only into the relaxed build: the SIMD128 build has no relaxed instructions to validate.
  if (ASC_FEATURE_RELAXED_SIMD) {
    const nb = k / qb;
    for (let r = r0; r < r1; r++) {
      for (let b = 0; b < nb; b++) {
        const src = x + ((<usize>r * k + <usize>b * qb) << 2);
        const dst = xq + <usize>r * k + <usize>b * qb;
        let mx = f32x4.splat(0);
        for (let p = 0; p < qb; p += 4) mx = f32x4.max(mx, f32x4.abs(v128.load(src + (<usize>p << 2))));
        const amax = max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
        const d: f32 = amax / 127;
        const id: f32 = d == 0 ? 0 : <f32>1 / d;
        let sum = 0;
        for (let p = 0; p < qb; p++) {
          const q = <i32>nearest<f32>(load<f32>(src + (<usize>p << 2)) * id);
          sum += q;
          store<i8>(dst + <usize>((p & ~31) | slot(p & 31)), <i8>q);
        }
        const o = (<usize>r * nb + b) << 2;
        store<f32>(xd + o, d);
        store<i32>(xs + o, sum);
      }
    }
  } else {
    unreachable();
  }
}

/** Same arguments and work units (row blocks of 4 outputs) as matmul_q4_x16, x from quantize_x8. */
export function matmul_q4_x8(
  out: usize, xq: usize, xd: usize, xs: usize, qw: usize, sc: usize, sz: usize, bias: usize,
  m: i32, k: i32, n: i32, gs: i32, rb0: i32, rb1: i32,
): void {
  // Compiled only into the relaxed build: the SIMD128 build has no relaxed instructions to validate.
  if (ASC_FEATURE_RELAXED_SIMD) {
    const qb = gs < 128 ? gs : 128;
    const nb = k / qb;
    const bpg = gs / qb;
    const chunks = qb >> 5; // i16 accumulators: qb ≤ 128
    for (let rb = rb0; rb < rb1; rb++) {
      const wrb = qw + <usize>rb * k * 2;
      const o = rb * 4;
      for (let i = 0; i < m; i++) {
        const xrow = xq + <usize>i * k;
        const xdr = xd + ((<usize>i * nb) << 2);
        const xsr = xs + ((<usize>i * nb) << 2);
        let acc = f32x4.splat(0); // lane r: output o + r
        let so = sc + <usize>rb * (k / gs) * 32;
        let zo = sz + <usize>rb * (k / gs) * 32;
        let wb = wrb;
        let xb = xrow;
        let inGroup = 0;
        for (let b = 0; b < nb; b++) {
          let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
          for (let c = 0; c < chunks; c++) {
            const wp = wb + <usize>(((c >> 1) << 7) | ((c & 1) << 4));
            const xp = xb + (<usize>c << 5);
            const xa = v128.load(xp), xc = v128.load(xp, 16);
            let v = v128.load(wp);
            a0 = i16x8.add(a0, i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xa, v128.and(v, v128.load(CONSTS, 32))), i16x8.relaxed_dot_i8x16_i7x16_s(xc, v128.and(i16x8.shr_u(v, 4), v128.load(CONSTS, 32)))));
            v = v128.load(wp, 32);
            a1 = i16x8.add(a1, i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xa, v128.and(v, v128.load(CONSTS, 32))), i16x8.relaxed_dot_i8x16_i7x16_s(xc, v128.and(i16x8.shr_u(v, 4), v128.load(CONSTS, 32)))));
            v = v128.load(wp, 64);
            a2 = i16x8.add(a2, i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xa, v128.and(v, v128.load(CONSTS, 32))), i16x8.relaxed_dot_i8x16_i7x16_s(xc, v128.and(i16x8.shr_u(v, 4), v128.load(CONSTS, 32)))));
            v = v128.load(wp, 96);
            a3 = i16x8.add(a3, i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xa, v128.and(v, v128.load(CONSTS, 32))), i16x8.relaxed_dot_i8x16_i7x16_s(xc, v128.and(i16x8.shr_u(v, 4), v128.load(CONSTS, 32)))));
          }
          // lane r = Σ of accumulator r (i16 pair sums widened once per block)
          const dots = sum4(wide(a0), wide(a1), wide(a2), wide(a3));
          const t = f32x4.add(f32x4.mul(v128.load(so), dots), f32x4.mul(v128.load(zo), f32x4.splat(<f32>load<i32>(xsr + (<usize>b << 2)))));
          acc = f32x4.add(acc, f32x4.mul(t, f32x4.splat(load<f32>(xdr + (<usize>b << 2)))));
          wb += <usize>(qb << 1);
          xb += <usize>qb;
          if (++inGroup == bpg) {
            inGroup = 0;
            so += 32;
            zo += 32;
          }
        }
        if (bias != 0) acc = f32x4.add(acc, v128.load(bias + (<usize>o << 2)));
        v128.store(out + ((<usize>i * n + o) << 2), acc);
      }
    }
  } else {
    unreachable();
  }
}

/**
 * The engine's relaxed dot product on a signed first operand: −60 where it follows the
 * definition (4 lanes of (−3)·5, the second operand 7-bit). Node 20's baseline compiler
 * (Liftoff, behind --experimental-wasm-relaxed-simd) treats the first operand as unsigned, so
 * the host uses the relaxed build only where this, run in a fresh instance, gives −60.
 */
export function relaxed_dot_check(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i32x4.extract_lane(i32x4.relaxed_dot_i8x16_i7x16_add_s(i8x16.splat(-3), i8x16.splat(5), i32x4.splat(0)), 0);
  } else {
    return 0;
  }
}

/**
 * Several x rows (prefill), relaxed build: as matmul_q4_x16_rows (wasm/matmul_q4_rows.ts) with
 * the weights unpacked once per block to bytes in quantize_x8's chunk order (row r at r·128
 * bytes of the thread's 1 KiB slot) and a 2 x 4 tile of relaxed int8 dot products: per 16
 * values of K, 2 x loads, 4 weight loads, 8 dots and 8 i16 adds for 128 multiply-adds. Same
 * results as matmul_q4_x8, bit for bit (integer sums; the same f32 updates per block).
 */
export function matmul_q4_x8_rows(
  out: usize, xq: usize, xd: usize, xs: usize, qw: usize, sc: usize, sz: usize, bias: usize, scr: usize,
  m: i32, k: i32, n: i32, gs: i32, rb0: i32, rb1: i32,
): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const qb = gs < 128 ? gs : 128;
    const nb = k / qb;
    const bpg = gs / qb;
    const slot = scr + <usize>rb0 * 1024;
    for (let rb = rb0; rb < rb1; rb++) {
      const wrb = qw + <usize>rb * k * 2;
      const o = rb * 4;
      for (let b = 0; b < nb; b++) {
        for (let c = 0; c < qb; c += 32) {
          const kk = b * qb + c;
          const tile = wrb + <usize>((kk >> 6) << 7) + <usize>(((kk >> 5) & 1) << 4);
          for (let r = 0; r < 4; r++) {
            const v = v128.load(tile + (<usize>r << 5));
            const d = slot + (<usize>r << 7) + <usize>c;
            v128.store(d, v128.and(v, v128.load(CONSTS, 32)));
            v128.store(d, v128.and(i16x8.shr_u(v, 4), v128.load(CONSTS, 32)), 16);
          }
        }
        const so = (<usize>rb * (k / gs) + <usize>(b / bpg)) * 32;
        const s4 = v128.load(sc + so), z4 = v128.load(sz + so);
        const first = b == 0;
        for (let i = 0; i < m; i += 2) {
          const two = i + 1 < m;
          const x0 = xq + <usize>i * k + <usize>(b * qb);
          const x1 = two ? x0 + <usize>k : x0;
          let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
          let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
          // 16 bytes of K per step (x and the slot share the chunk order): 2 x + 4 weight vectors
          // live, as in the SIMD128 rows kernel (a 32-byte step spilled accumulators in V8).
          for (let p = 0; p < qb; p += 16) {
            const u = v128.load(x0 + <usize>p), v = v128.load(x1 + <usize>p);
            const wp = slot + <usize>p;
            let w = v128.load(wp);
            a00 = i16x8.add(a00, i16x8.relaxed_dot_i8x16_i7x16_s(u, w)); a10 = i16x8.add(a10, i16x8.relaxed_dot_i8x16_i7x16_s(v, w));
            w = v128.load(wp, 128);
            a01 = i16x8.add(a01, i16x8.relaxed_dot_i8x16_i7x16_s(u, w)); a11 = i16x8.add(a11, i16x8.relaxed_dot_i8x16_i7x16_s(v, w));
            w = v128.load(wp, 256);
            a02 = i16x8.add(a02, i16x8.relaxed_dot_i8x16_i7x16_s(u, w)); a12 = i16x8.add(a12, i16x8.relaxed_dot_i8x16_i7x16_s(v, w));
            w = v128.load(wp, 384);
            a03 = i16x8.add(a03, i16x8.relaxed_dot_i8x16_i7x16_s(u, w)); a13 = i16x8.add(a13, i16x8.relaxed_dot_i8x16_i7x16_s(v, w));
          }
          update(out, i, n, o, sum4(wide(a00), wide(a01), wide(a02), wide(a03)), s4, z4, xd, xs, nb, b, first);
          if (two) update(out, i + 1, n, o, sum4(wide(a10), wide(a11), wide(a12), wide(a13)), s4, z4, xd, xs, nb, b, first);
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
  } else {
    unreachable();
  }
}

/** i16 pair sums → i32 lanes. */
@inline function wide(a: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(a);
}

