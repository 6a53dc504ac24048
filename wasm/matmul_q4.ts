// matmul_q4: out (m,n) = x (m,k) · W (n,k)ᵀ + bias, W int4 in the TinyChat v2 layout
// (spec/awq.md §2.3): per row block of 4 outputs and 64-wide K tile, 128 contiguous bytes; row r
// owns bytes 32r..32r+31, the first 16 for K 0..31 of the tile, the next 16 for K 32..63; in
// 16-bit lane j of such a 16-byte vector, nibble u holds K offset 8u + j.
//
// Integer dot products on quantized activations. Each x row is quantized per block of
// QB = min(G, 128) columns (quantize_x16: d = amax/32767, xq = nearest(x/d), kept in K order as
// int16), so one v128 load of weights and four i32x4.dot_i16x8_s give 32 multiply-adds with
// exact integer sums. Per block: out += d·(s·Σq·xq + sz·Σxq) in f32. This must match
// src/ref/matmul_q4.ts matmul_q4_q8act(levels = 32767) to f32 rounding, and matmul_q4 (the exact
// op) within the int16 quantization error (~1e-5 relative).
//
// Unpacking a 16-bit lane's nibbles: n0 = v & 0x000F, n3 = v >>> 12 (scale 1), and 16·n1 =
// v & 0x00F0, 16·n2 = (v >>> 4) & 0x00F0 (scale 16): five ops for 32 weights, two accumulators,
// the second shifted right by 4 at the block's end (exact: every product is a multiple of 16).
// Overflow: |xq| ≤ 32767, so a ×16 lane holds ≤ 8 products of 240·32767 per 128-wide block.
// Two output rows at a time share the four x vectors of a 32-wide chunk (12 live v128 of V8's
// 15). Each output is a fixed sequence of per-block f32 updates, whichever thread runs its row
// block: results do not depend on the thread count.
//
// Versions (1 thread, 4096 x 4096 from cache, machine shared so ±15%): v1 chunk loop with a
// division per block: 9.5 GFLOP/s; v2 (this) no division, pointer steps: 27 GFLOP/s quiet;
// v3 one output row per pass, a 64-wide tile per iteration: no faster (1.7-2.0 ms vs 1.6-1.9 ms
// for v2 side by side under load), not kept. Several x rows: matmul_q4_rows.ts.
//
// Constants live in memory at CONSTS (written by the host when a shard is made) because V8
// rebuilds a v128 immediate inside every loop iteration, while a load folds into the `and`.

export const CONSTS: usize = 0x400; // u16 lanes: [0x000F ×8][0x00F0 ×8][0x0F0F ×8]

/** Quantize rows [r0, r1) of x (m,k) to int16 per block of qb: xq (m,k) i16, xd (m,k/qb) f32 scales, xs (m,k/qb) i32 sums. */
export function quantize_x16(xq: usize, xd: usize, xs: usize, x: usize, k: i32, qb: i32, r0: i32, r1: i32): void {
  const nb = k / qb;
  for (let r = r0; r < r1; r++) {
    for (let b = 0; b < nb; b++) {
      const src = x + ((<usize>r * k + <usize>b * qb) << 2);
      const dst = xq + ((<usize>r * k + <usize>b * qb) << 1);
      let mx = f32x4.splat(0);
      for (let p = 0; p < qb; p += 4) mx = f32x4.max(mx, f32x4.abs(v128.load(src + (<usize>p << 2))));
      const amax = max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
      const d: f32 = amax / 32767;
      const id = f32x4.splat(d == 0 ? 0 : <f32>1 / d);
      let sum = i32x4.splat(0);
      for (let p = 0; p < qb; p += 8) {
        const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(src + (<usize>p << 2)), id)));
        const c = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(src + (<usize>p << 2), 16), id)));
        sum = i32x4.add(sum, i32x4.add(a, c));
        v128.store(dst + (<usize>p << 1), i16x8.narrow_i32x4_s(a, c));
      }
      const o = (<usize>r * nb + b) << 2;
      store<f32>(xd + o, d);
      store<i32>(xs + o, i32x4.extract_lane(sum, 0) + i32x4.extract_lane(sum, 1) + i32x4.extract_lane(sum, 2) + i32x4.extract_lane(sum, 3));
    }
  }
}

/** [Σ(p0 + q0/16), Σ(p1 + q1/16), 0, 0] as f32x4 (the ×16 accumulators shifted back exactly). */
@inline function dots2(p0: v128, q0: v128, p1: v128, q1: v128): v128 {
  const t0 = i32x4.add(p0, i32x4.shr_s(q0, 4));
  const t1 = i32x4.add(p1, i32x4.shr_s(q1, 4));
  const s = i32x4.add(v128.shuffle<i32>(t0, t1, 0, 4, 1, 5), v128.shuffle<i32>(t0, t1, 2, 6, 3, 7));
  return f32x4.convert_i32x4_s(i32x4.add(s, v128.shuffle<i32>(s, s, 2, 3, 0, 1)));
}

/**
 * Row blocks [rb0, rb1) (outputs 4·rb0 .. 4·rb1) for every x row. qw (n/4, k) u16; sc: scales
 * and scaled zeros as f32, interleaved (n/4, k/G, [s0 s1 s2 s3 z0 z1 z2 z3]) so that a row block
 * streams its 32 bytes per group in order (the host converts, dropping the padded group rows;
 * read from the stored (G, n) layout, 16-KiB strides made decode from DRAM 2x slower);
 * sz = sc + 16; xq/xd/xs from quantize_x16;
 * bias (n) f32 or 0. Loop order row block → x row → block: the row block's packed weights
 * (2k bytes) are read from memory once and from cache for the other x rows.
 */
export function matmul_q4_x16(
  out: usize, xq: usize, xd: usize, xs: usize, qw: usize, sc: usize, sz: usize, bias: usize,
  m: i32, k: i32, n: i32, gs: i32, rb0: i32, rb1: i32,
): void {
  const qb = gs < 128 ? gs : 128;
  const nb = k / qb;
  const bpg = gs / qb;
  const chunks = qb >> 5;
  for (let rb = rb0; rb < rb1; rb++) {
    const wrb = qw + <usize>rb * k * 2;
    for (let i = 0; i < m; i++) {
      const xrow = xq + ((<usize>i * k) << 1);
      const xdr = xd + ((<usize>i * nb) << 2);
      const xsr = xs + ((<usize>i * nb) << 2);
      for (let r = 0; r < 4; r += 2) {
        const o = rb * 4 + r;
        // lanes 0, 1: outputs o, o + 1
        let acc = f32x4.splat(0);
        let so = sc + <usize>rb * (k / gs) * 32 + (<usize>r << 2);
        let zo = sz + <usize>rb * (k / gs) * 32 + (<usize>r << 2);
        let wb = wrb + (<usize>r << 5);
        let xb = xrow;
        let inGroup = 0;
        for (let b = 0; b < nb; b++) {
          let p0 = i32x4.splat(0), q0 = i32x4.splat(0), p1 = i32x4.splat(0), q1 = i32x4.splat(0);
          for (let c = 0; c < chunks; c++) {
            // chunk c of the block: tile c/2 (128 bytes apart), half c&1 (16 bytes); row r + 1 is 32 bytes on
            const wp = wb + <usize>(((c >> 1) << 7) | ((c & 1) << 4));
            const xp = xb + (<usize>c << 6);
            const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
            const v = v128.load(wp);
            p0 = i32x4.add(p0, i32x4.add(i32x4.dot_i16x8_s(v128.and(v, v128.load(CONSTS)), x0), i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), x3)));
            q0 = i32x4.add(q0, i32x4.add(i32x4.dot_i16x8_s(v128.and(v, v128.load(CONSTS, 16)), x1), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 4), v128.load(CONSTS, 16)), x2)));
            const u = v128.load(wp, 32);
            p1 = i32x4.add(p1, i32x4.add(i32x4.dot_i16x8_s(v128.and(u, v128.load(CONSTS)), x0), i32x4.dot_i16x8_s(i16x8.shr_u(u, 12), x3)));
            q1 = i32x4.add(q1, i32x4.add(i32x4.dot_i16x8_s(v128.and(u, v128.load(CONSTS, 16)), x1), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(u, 4), v128.load(CONSTS, 16)), x2)));
          }
          const dots = dots2(p0, q0, p1, q1);
          const t = f32x4.add(f32x4.mul(v128.load64_zero(so), dots), f32x4.mul(v128.load64_zero(zo), f32x4.splat(<f32>load<i32>(xsr + (<usize>b << 2)))));
          acc = f32x4.add(acc, f32x4.mul(t, f32x4.splat(load<f32>(xdr + (<usize>b << 2)))));
          wb += <usize>(qb << 1);
          xb += <usize>(qb << 1);
          if (++inGroup == bpg) {
            inGroup = 0;
            so += 32;
            zo += 32;
          }
        }
        const oo = out + ((<usize>i * n + o) << 2);
        if (bias != 0) acc = f32x4.add(acc, v128.load64_zero(bias + (<usize>o << 2)));
        v128.store64_lane(oo, acc, 0);
      }
    }
  }
}
