// matmul: out (m,n) = x (m,k) · w (n,k)ᵀ + bias (n), w f32, bf16 or f16 read in place.
// Must match src/ref/matmul.ts (float64 sums) within f32 rounding.
//
// Both operands are k-contiguous ("NT" layout, as nn.Linear stores its weight), so the inner
// loop is a dot product over k in f32x4 lanes; a 3x3 register tile (9 accumulators, 3 x rows,
// one weight vector in flight: 13 of the 16 xmm registers V8 allocates) reads 6 vectors per 18
// multiply-adds. Rows are taken in chunks of ≤ 64 KiB of x so a chunk stays in L2 while every
// weight row of the thread's column range streams past it once.
// Each output is one dot in a fixed k order (lane l sums k ≡ l mod 4, lanes summed as
// (l0+l2)+(l1+l3), then the scalar k tail, then the bias), whatever the tile, chunk or thread
// that computes it: results do not depend on the thread count.
// Versions (1 thread, M=128, K=N=2560, bf16 weights): v1 3x3 tile — see bench/results.

import { hsum, load1, load4 } from './simd';

const TR = 3;
const TC = 2;
@inline function TILE<W>(out: usize, x: usize, w: usize, bias: usize, k: i32, n: i32, i: i32, j: i32): void {
  tile32<W>(out, x, w, bias, k, n, i, j);
}

@inline function put(out: usize, n: i32, i: i32, j: i32, v: f32, bias: usize): void {
  store<f32>(out + ((<usize>i * n + j) << 2), bias == 0 ? v : v + load<f32>(bias + (<usize>j << 2)));
}

/** Scalar tail of one dot: k values [k4, k). */
@inline function tail<W>(xr: usize, wr: usize, k4: i32, k: i32): f32 {
  let s: f32 = 0;
  for (let p = k4; p < k; p++) s += load<f32>(xr + (<usize>p << 2)) * load1<W>(wr + <usize>p * sizeof<W>());
  return s;
}

@inline function tile23<W>(out: usize, x: usize, w: usize, bias: usize, k: i32, n: i32, i: i32, j: i32): void {
  const sw = <usize>sizeof<W>();
  const x0 = x + ((<usize>i * k) << 2);
  const x1 = x0 + (<usize>k << 2);
  const w0 = w + <usize>j * k * sw;
  const w1 = w0 + <usize>k * sw;
  const w2 = w1 + <usize>k * sw;
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0);
  const k4 = k & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo); const v1 = v128.load(x1 + xo);
    let c = load4<W>(w0 + wo);
    a00 = f32x4.add(a00, f32x4.mul(v0, c)); a10 = f32x4.add(a10, f32x4.mul(v1, c));
    c = load4<W>(w1 + wo);
    a01 = f32x4.add(a01, f32x4.mul(v0, c)); a11 = f32x4.add(a11, f32x4.mul(v1, c));
    c = load4<W>(w2 + wo);
    a02 = f32x4.add(a02, f32x4.mul(v0, c)); a12 = f32x4.add(a12, f32x4.mul(v1, c));
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, k), bias);
  put(out, n, i + 0, j + 1, hsum(a01) + tail<W>(x0, w1, k4, k), bias);
  put(out, n, i + 0, j + 2, hsum(a02) + tail<W>(x0, w2, k4, k), bias);
  put(out, n, i + 1, j + 0, hsum(a10) + tail<W>(x1, w0, k4, k), bias);
  put(out, n, i + 1, j + 1, hsum(a11) + tail<W>(x1, w1, k4, k), bias);
  put(out, n, i + 1, j + 2, hsum(a12) + tail<W>(x1, w2, k4, k), bias);
}

@inline function tile32<W>(out: usize, x: usize, w: usize, bias: usize, k: i32, n: i32, i: i32, j: i32): void {
  const sw = <usize>sizeof<W>();
  const x0 = x + ((<usize>i * k) << 2);
  const x1 = x0 + (<usize>k << 2);
  const x2 = x1 + (<usize>k << 2);
  const w0 = w + <usize>j * k * sw;
  const w1 = w0 + <usize>k * sw;
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0);
  const k4 = k & ~3;
  for (let p = 0; p < k4; p += 4) {
    const xo = <usize>p << 2, wo = <usize>p * sw;
    const v0 = v128.load(x0 + xo); const v1 = v128.load(x1 + xo); const v2 = v128.load(x2 + xo);
    let c = load4<W>(w0 + wo);
    a00 = f32x4.add(a00, f32x4.mul(v0, c)); a10 = f32x4.add(a10, f32x4.mul(v1, c)); a20 = f32x4.add(a20, f32x4.mul(v2, c));
    c = load4<W>(w1 + wo);
    a01 = f32x4.add(a01, f32x4.mul(v0, c)); a11 = f32x4.add(a11, f32x4.mul(v1, c)); a21 = f32x4.add(a21, f32x4.mul(v2, c));
  }
  put(out, n, i + 0, j + 0, hsum(a00) + tail<W>(x0, w0, k4, k), bias);
  put(out, n, i + 0, j + 1, hsum(a01) + tail<W>(x0, w1, k4, k), bias);
  put(out, n, i + 1, j + 0, hsum(a10) + tail<W>(x1, w0, k4, k), bias);
  put(out, n, i + 1, j + 1, hsum(a11) + tail<W>(x1, w1, k4, k), bias);
  put(out, n, i + 2, j + 0, hsum(a20) + tail<W>(x2, w0, k4, k), bias);
  put(out, n, i + 2, j + 1, hsum(a21) + tail<W>(x2, w1, k4, k), bias);
}

/** One x row against four weight rows (decode, and the rows a 3x3 tile leaves over). */
@inline function tile14<W>(out: usize, x: usize, w: usize, bias: usize, k: i32, n: i32, i: i32, j: i32): void {
  const sw = <usize>sizeof<W>();
  const x0 = x + ((<usize>i * k) << 2);
  const w0 = w + <usize>j * k * sw, w1 = w0 + <usize>k * sw, w2 = w1 + <usize>k * sw, w3 = w2 + <usize>k * sw;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const k4 = k & ~3;
  for (let p = 0; p < k4; p += 4) {
    const v = v128.load(x0 + (<usize>p << 2)), wo = <usize>p * sw;
    a0 = f32x4.add(a0, f32x4.mul(v, load4<W>(w0 + wo)));
    a1 = f32x4.add(a1, f32x4.mul(v, load4<W>(w1 + wo)));
    a2 = f32x4.add(a2, f32x4.mul(v, load4<W>(w2 + wo)));
    a3 = f32x4.add(a3, f32x4.mul(v, load4<W>(w3 + wo)));
  }
  put(out, n, i, j, hsum(a0) + tail<W>(x0, w0, k4, k), bias);
  put(out, n, i, j + 1, hsum(a1) + tail<W>(x0, w1, k4, k), bias);
  put(out, n, i, j + 2, hsum(a2) + tail<W>(x0, w2, k4, k), bias);
  put(out, n, i, j + 3, hsum(a3) + tail<W>(x0, w3, k4, k), bias);
}

@inline function tile11<W>(out: usize, x: usize, w: usize, bias: usize, k: i32, n: i32, i: i32, j: i32): void {
  const sw = <usize>sizeof<W>();
  const x0 = x + ((<usize>i * k) << 2);
  const w0 = w + <usize>j * k * sw;
  let a0 = f32x4.splat(0);
  const k4 = k & ~3;
  for (let p = 0; p < k4; p += 4) a0 = f32x4.add(a0, f32x4.mul(v128.load(x0 + (<usize>p << 2)), load4<W>(w0 + <usize>p * sw)));
  put(out, n, i, j, hsum(a0) + tail<W>(x0, w0, k4, k), bias);
}

function matmulRange<W>(out: usize, x: usize, w: usize, bias: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32): void {
  // Rows per chunk: a multiple of TR whose x rows take at most 64 KiB (at least TR rows).
  let chunk = (16384 / max(k, 1)) / TR * TR;
  if (chunk < TR) chunk = TR;
  for (let r0 = 0; r0 < m; r0 += chunk) {
    const r1 = min(m, r0 + chunk);
    const rt = r0 + (r1 - r0) / TR * TR;
    let j = j0;
    for (; j + TC <= j1; j += TC) {
      for (let i = r0; i < rt; i += TR) TILE<W>(out, x, w, bias, k, n, i, j);
    }
    for (; j < j1; j++) {
      for (let i = r0; i < rt; i++) tile11<W>(out, x, w, bias, k, n, i, j);
    }
    // Rows left over by the tiles: one row against four weight rows at a time.
    for (let i = rt; i < r1; i++) {
      let jj = j0;
      for (; jj + 4 <= j1; jj += 4) tile14<W>(out, x, w, bias, k, n, i, jj);
      for (; jj < j1; jj++) tile11<W>(out, x, w, bias, k, n, i, jj);
    }
  }
}

/** Columns [j0, j1) of out; bias 0 = none (bias is f32). */
export function matmul_f32(out: usize, x: usize, w: usize, bias: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32): void {
  matmulRange<f32>(out, x, w, bias, m, k, n, j0, j1);
}

export function matmul_bf16(out: usize, x: usize, w: usize, bias: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32): void {
  matmulRange<u16>(out, x, w, bias, m, k, n, j0, j1);
}

export function matmul_f16(out: usize, x: usize, w: usize, bias: usize, m: i32, k: i32, n: i32, j0: i32, j1: i32): void {
  matmulRange<i16>(out, x, w, bias, m, k, n, j0, j1);
}
