// matmul: out (m,n) = x (m,k) · w (n,k)ᵀ + bias (n), w f32, bf16 or f16 read in place.
// Must match src/ref/matmul.ts (float64 sums) within f32 rounding.
//
// Both operands are k-contiguous ("NT" layout, as nn.Linear stores its weight), so the inner
// loop is a dot product over k in f32x4 lanes. Register tile: 2 x rows × 3 weight rows (6
// accumulators, 2 x vectors, the weight vector in flight: no spills in V8's 15 allocatable xmm
// registers; a 3x3 tile spilled one accumulator to the stack and ran at half speed). The relaxed
// build's fused multiply-add needs no product register, so there the tile is 3×3.
// Cache blocking (m > 4): k in blocks of KC so a tile's rows sit in L1, weight columns in panels
// of NC so a panel's KC-slices stay in L2 while all x rows pass; partial sums go through `out`.
// 16-bit weights are converted to f32 once per panel into scratch (host-provided, n·KC floats,
// indexed by column so threads never share a slot) instead of once per pair of x rows.
// Decode (m ≤ 4) streams each weight row once, without k blocks, converting in registers.
// Each output is a fixed sequence: per k block, lanes l (k ≡ l mod 4) summed (l0+l2)+(l1+l3),
// plus the block's scalar tail; blocks added in order; then the bias. Tiles, panels and thread
// ranges never change that sequence: results do not depend on the thread count.
// The relaxed build fuses each multiply-add (relaxed_madd); the SIMD128 build rounds twice.
// Versions (1 thread, M=128, K=N=2560): v1 3x3 tile, no blocking: f32 15 GFLOP/s (spills,
// L2-bound); v2 2x3 + KC/NC blocking: f32 ~28, bf16 ~18 (converting per x-row pair); v3 bf16
// widened once per panel: ~27; v4 (this) relaxed build 3x3 with fused multiply-add: f32 38,
// bf16 28-37 (simd 21-28 / 26-27 in the same alternating runs; the machine is shared, ±20%).
// NC 24 and 96 measured no better than 48 within that noise.

import { hsum, load1, load4, madd } from './simd';

const KC = 512;
const NC = 48;

@inline function put(out: usize, n: i32, i: i32, j: i32, v: f32, bias: usize, first: bool, last: bool): void {
  const p = out + ((<usize>i * n + j) << 2);
  let s = first ? v : load<f32>(p) + v;
  if (last && bias != 0) s += load<f32>(bias + (<usize>j << 2));
  store<f32>(p, s);
}

/** Scalar tail of one dot: k values [k4, kl) of the block. */
@inline function tail<W>(xr: usize, wr: usize, k4: i32, kl: i32): f32 {
  let s: f32 = 0;
  for (let p = k4; p < kl; p++) s += load<f32>(xr + (<usize>p << 2)) * load1<W>(wr + <usize>p * sizeof<W>());
  return s;
}

// Register tiles, one function per shape (rows × weight rows): each accumulator must be its own
// local for V8 to keep it in a register, so the shapes are written out rather than looped.
@inline function tile23<W>(out: usize, n: i32, i: i32, j: i32, x0: usize, xs: usize, w0: usize, ws: usize, kl: i32, bias: usize, first: bool, last: bool): void {
  const sw = <usize>sizeof<W>();
  const x1 = x0 + xs;
  const w1 = w0 + ws;
  const w2 = w1 + ws;
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0);
  const k4 = kl & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo); const v1 = v128.load(x1 + xo);
    let c = load4<W>(w0 + wo);
    a00 = madd(v0, c, a00); a10 = madd(v1, c, a10);
    c = load4<W>(w1 + wo);
    a01 = madd(v0, c, a01); a11 = madd(v1, c, a11);
    c = load4<W>(w2 + wo);
    a02 = madd(v0, c, a02); a12 = madd(v1, c, a12);
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 1, hsum(a01) + tail<W>(x0, w1, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 2, hsum(a02) + tail<W>(x0, w2, k4, kl), bias, first, last);
  put(out, n, i + 1, j + 0, hsum(a10) + tail<W>(x1, w0, k4, kl), bias, first, last);
  put(out, n, i + 1, j + 1, hsum(a11) + tail<W>(x1, w1, k4, kl), bias, first, last);
  put(out, n, i + 1, j + 2, hsum(a12) + tail<W>(x1, w2, k4, kl), bias, first, last);
}

@inline function tile33<W>(out: usize, n: i32, i: i32, j: i32, x0: usize, xs: usize, w0: usize, ws: usize, kl: i32, bias: usize, first: bool, last: bool): void {
  const sw = <usize>sizeof<W>();
  const x1 = x0 + xs;
  const x2 = x1 + xs;
  const w1 = w0 + ws;
  const w2 = w1 + ws;
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a22 = f32x4.splat(0);
  const k4 = kl & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo); const v1 = v128.load(x1 + xo); const v2 = v128.load(x2 + xo);
    let c = load4<W>(w0 + wo);
    a00 = madd(v0, c, a00); a10 = madd(v1, c, a10); a20 = madd(v2, c, a20);
    c = load4<W>(w1 + wo);
    a01 = madd(v0, c, a01); a11 = madd(v1, c, a11); a21 = madd(v2, c, a21);
    c = load4<W>(w2 + wo);
    a02 = madd(v0, c, a02); a12 = madd(v1, c, a12); a22 = madd(v2, c, a22);
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 1, hsum(a01) + tail<W>(x0, w1, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 2, hsum(a02) + tail<W>(x0, w2, k4, kl), bias, first, last);
  put(out, n, i + 1, j + 0, hsum(a10) + tail<W>(x1, w0, k4, kl), bias, first, last);
  put(out, n, i + 1, j + 1, hsum(a11) + tail<W>(x1, w1, k4, kl), bias, first, last);
  put(out, n, i + 1, j + 2, hsum(a12) + tail<W>(x1, w2, k4, kl), bias, first, last);
  put(out, n, i + 2, j + 0, hsum(a20) + tail<W>(x2, w0, k4, kl), bias, first, last);
  put(out, n, i + 2, j + 1, hsum(a21) + tail<W>(x2, w1, k4, kl), bias, first, last);
  put(out, n, i + 2, j + 2, hsum(a22) + tail<W>(x2, w2, k4, kl), bias, first, last);
}

@inline function tile31<W>(out: usize, n: i32, i: i32, j: i32, x0: usize, xs: usize, w0: usize, ws: usize, kl: i32, bias: usize, first: bool, last: bool): void {
  const sw = <usize>sizeof<W>();
  const x1 = x0 + xs;
  const x2 = x1 + xs;
  let a00 = f32x4.splat(0);
  let a10 = f32x4.splat(0);
  let a20 = f32x4.splat(0);
  const k4 = kl & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo); const v1 = v128.load(x1 + xo); const v2 = v128.load(x2 + xo);
    let c = load4<W>(w0 + wo);
    a00 = madd(v0, c, a00); a10 = madd(v1, c, a10); a20 = madd(v2, c, a20);
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, kl), bias, first, last);
  put(out, n, i + 1, j + 0, hsum(a10) + tail<W>(x1, w0, k4, kl), bias, first, last);
  put(out, n, i + 2, j + 0, hsum(a20) + tail<W>(x2, w0, k4, kl), bias, first, last);
}

@inline function tile13<W>(out: usize, n: i32, i: i32, j: i32, x0: usize, xs: usize, w0: usize, ws: usize, kl: i32, bias: usize, first: bool, last: bool): void {
  const sw = <usize>sizeof<W>();
  const w1 = w0 + ws;
  const w2 = w1 + ws;
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0);
  const k4 = kl & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo);
    let c = load4<W>(w0 + wo);
    a00 = madd(v0, c, a00);
    c = load4<W>(w1 + wo);
    a01 = madd(v0, c, a01);
    c = load4<W>(w2 + wo);
    a02 = madd(v0, c, a02);
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 1, hsum(a01) + tail<W>(x0, w1, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 2, hsum(a02) + tail<W>(x0, w2, k4, kl), bias, first, last);
}

@inline function tile21<W>(out: usize, n: i32, i: i32, j: i32, x0: usize, xs: usize, w0: usize, ws: usize, kl: i32, bias: usize, first: bool, last: bool): void {
  const sw = <usize>sizeof<W>();
  const x1 = x0 + xs;
  let a00 = f32x4.splat(0);
  let a10 = f32x4.splat(0);
  const k4 = kl & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo); const v1 = v128.load(x1 + xo);
    let c = load4<W>(w0 + wo);
    a00 = madd(v0, c, a00); a10 = madd(v1, c, a10);
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, kl), bias, first, last);
  put(out, n, i + 1, j + 0, hsum(a10) + tail<W>(x1, w0, k4, kl), bias, first, last);
}

@inline function tile11<W>(out: usize, n: i32, i: i32, j: i32, x0: usize, xs: usize, w0: usize, ws: usize, kl: i32, bias: usize, first: bool, last: bool): void {
  const sw = <usize>sizeof<W>();
  let a00 = f32x4.splat(0);
  const k4 = kl & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo);
    let c = load4<W>(w0 + wo);
    a00 = madd(v0, c, a00);
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, kl), bias, first, last);
}

@inline function tile14<W>(out: usize, n: i32, i: i32, j: i32, x0: usize, xs: usize, w0: usize, ws: usize, kl: i32, bias: usize, first: bool, last: bool): void {
  const sw = <usize>sizeof<W>();
  const w1 = w0 + ws;
  const w2 = w1 + ws;
  const w3 = w2 + ws;
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
  const k4 = kl & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo);
    let c = load4<W>(w0 + wo);
    a00 = madd(v0, c, a00);
    c = load4<W>(w1 + wo);
    a01 = madd(v0, c, a01);
    c = load4<W>(w2 + wo);
    a02 = madd(v0, c, a02);
    c = load4<W>(w3 + wo);
    a03 = madd(v0, c, a03);
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 1, hsum(a01) + tail<W>(x0, w1, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 2, hsum(a02) + tail<W>(x0, w2, k4, kl), bias, first, last);
  put(out, n, i + 0, j + 3, hsum(a03) + tail<W>(x0, w3, k4, kl), bias, first, last);
}

/**
 * Rows [0, m) × columns [ja, jb) for k block (kb, kl); w0 = weight row ja at kb, ws its row
 * stride in bytes. SIMD128: 2×3 tiles (a multiply and an add need a product register: 3×3
 * spilled). Relaxed: 3×3 tiles, as a fused multiply-add needs no temporary (9 accumulators,
 * 3 x vectors, 1 weight vector). Rows left over go one at a time.
 */
@inline function panel<W>(out: usize, x: usize, w0: usize, ws: usize, bias: usize, m: i32, k: i32, n: i32, ja: i32, jb: i32, kb: i32, kl: i32, first: bool, last: bool): void {
  const xs = <usize>k << 2;
  const tr = ASC_FEATURE_RELAXED_SIMD ? 3 : 2;
  const mt = m - m % tr;
  const j3 = ja + (jb - ja) / 3 * 3;
  for (let i = 0; i < mt; i += tr) {
    const xr = x + <usize>i * xs + (<usize>kb << 2);
    let j = ja;
    if (ASC_FEATURE_RELAXED_SIMD) {
      for (; j < j3; j += 3) tile33<W>(out, n, i, j, xr, xs, w0 + <usize>(j - ja) * ws, ws, kl, bias, first, last);
      for (; j < jb; j++) tile31<W>(out, n, i, j, xr, xs, w0 + <usize>(j - ja) * ws, ws, kl, bias, first, last);
    } else {
      for (; j < j3; j += 3) tile23<W>(out, n, i, j, xr, xs, w0 + <usize>(j - ja) * ws, ws, kl, bias, first, last);
      for (; j < jb; j++) tile21<W>(out, n, i, j, xr, xs, w0 + <usize>(j - ja) * ws, ws, kl, bias, first, last);
    }
  }
  for (let i = mt; i < m; i++) {
    const xr = x + <usize>i * xs + (<usize>kb << 2);
    let j = ja;
    for (; j < j3; j += 3) tile13<W>(out, n, i, j, xr, xs, w0 + <usize>(j - ja) * ws, ws, kl, bias, first, last);
    for (; j < jb; j++) tile11<W>(out, n, i, j, xr, xs, w0 + <usize>(j - ja) * ws, ws, kl, bias, first, last);
  }
}

/** Weight rows [ja, jb), columns [kb, kb + kl) → f32 at dst, KC floats per row. */
@inline function widen<W>(dst: usize, w: usize, k: i32, ja: i32, jb: i32, kb: i32, kl: i32): void {
  const sw = <usize>sizeof<W>();
  for (let j = ja; j < jb; j++) {
    const src = w + (<usize>j * k + kb) * sw;
    const d = dst + ((<usize>(j - ja) * KC) << 2);
    let p = 0;
    for (; p + 4 <= kl; p += 4) v128.store(d + (<usize>p << 2), load4<W>(src + <usize>p * sw));
    for (; p < kl; p++) store<f32>(d + (<usize>p << 2), load1<W>(src + <usize>p * sw));
  }
}

function matmulRange<W>(out: usize, x: usize, w: usize, bias: usize, scr: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32): void {
  const sw = <usize>sizeof<W>();
  if (m <= 4) {
    // Decode: one pass over the weights, four rows at a time, whole k.
    const ws = <usize>k * sw;
    for (let i = 0; i < m; i++) {
      const xr = x + ((<usize>i * k) << 2);
      let j = j0;
      for (; j + 4 <= j1; j += 4) tile14<W>(out, n, i, j, xr, 0, w + <usize>j * ws, ws, k, bias, true, true);
      for (; j < j1; j++) tile11<W>(out, n, i, j, xr, 0, w + <usize>j * ws, ws, k, bias, true, true);
    }
    return;
  }
  for (let kb = 0; kb < k; kb += KC) {
    const kl = min(KC, k - kb);
    const first = kb == 0, last = kb + KC >= k;
    for (let ja = j0; ja < j1; ja += NC) {
      const jb = min(j1, ja + NC);
      if (isFloat<W>()) {
        panel<f32>(out, x, w + (<usize>ja * k + kb) * sw, <usize>k * sw, bias, m, k, n, ja, jb, kb, kl, first, last);
      } else {
        const dst = scr + ((<usize>ja * KC) << 2);
        widen<W>(dst, w, k, ja, jb, kb, kl);
        panel<f32>(out, x, dst, <usize>KC << 2, bias, m, k, n, ja, jb, kb, kl, first, last);
      }
    }
  }
}

/** Columns [j0, j1) of out; bias 0 = none (bias is f32); scr: n·KC floats when w is 16-bit and m > 4. */
export function matmul_f32(out: usize, x: usize, w: usize, bias: usize, scr: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32): void {
  matmulRange<f32>(out, x, w, bias, scr, m, k, n, j0, j1);
}

export function matmul_bf16(out: usize, x: usize, w: usize, bias: usize, scr: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32): void {
  matmulRange<u16>(out, x, w, bias, scr, m, k, n, j0, j1);
}

export function matmul_f16(out: usize, x: usize, w: usize, bias: usize, scr: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32): void {
  matmulRange<i16>(out, x, w, bias, scr, m, k, n, j0, j1);
}
