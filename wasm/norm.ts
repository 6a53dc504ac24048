// layer_norm, rms_norm over rows of f32: statistics per row, weight (and bias) f32 (n).
// Must match src/ref/norm.ts (float64 statistics, two-pass variance).
//
// Statistics in f32 over 8 lanes (two f32x4 accumulators, lanes summed in a fixed order, then
// the scalar tail): each lane sums n/8 terms, so the rounding error of a sum grows like
// (n/8)·ε at worst; the variance is two-pass (Σ(x − mean)²) as in the reference, so there is no
// cancellation. Measured NMSE against the float64 reference 6e-15 .. 1e-14 (src/opcheck/cases.ts,
// widths 37 .. 4608), so f64 lanes (half the throughput) would buy nothing visible.
// Units are rows; out may be x (each row is read in full before it is written).
// Versions (machine shared with other jobs, best of 30): v1 this. layer_norm 729×1152: 0.41 ms
// on 1 thread (16 GB/s of x + out), 0.28 ms on 2; rms_norm 64×4096: 0.12 / 0.07 ms; rms_norm
// 1×2560 (decode): 6 µs, one call's overhead.

import { hsum } from './simd';

/** Σ x[0..n) with 8 lanes. */
@inline function rowSum(x: usize, n: i32): f32 {
  let a = f32x4.splat(0), b = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    a = f32x4.add(a, v128.load(x + (<usize>j << 2)));
    b = f32x4.add(b, v128.load(x + (<usize>j << 2), 16));
  }
  let s = hsum(f32x4.add(a, b));
  for (; j < n; j++) s += load<f32>(x + (<usize>j << 2));
  return s;
}

/** Σ (x − c)² over x[0..n) with 8 lanes. */
@inline function rowSumSq(x: usize, n: i32, c: f32): f32 {
  const cv = f32x4.splat(c);
  let a = f32x4.splat(0), b = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const d0 = f32x4.sub(v128.load(x + (<usize>j << 2)), cv);
    const d1 = f32x4.sub(v128.load(x + (<usize>j << 2), 16), cv);
    a = f32x4.add(a, f32x4.mul(d0, d0));
    b = f32x4.add(b, f32x4.mul(d1, d1));
  }
  let s = hsum(f32x4.add(a, b));
  for (; j < n; j++) {
    const d = load<f32>(x + (<usize>j << 2)) - c;
    s += d * d;
  }
  return s;
}

/** out = (x − mean)·inv·w + b for rows [start, end); bias 0 = none (rms_norm passes c = 0). */
@inline function normRows(out: usize, x: usize, w: usize, b: usize, n: i32, eps: f32, centre: bool, start: i32, end: i32): void {
  for (let r = start; r < end; r++) {
    const xr = x + ((<usize>r * n) << 2);
    const or = out + ((<usize>r * n) << 2);
    const mean: f32 = centre ? rowSum(xr, n) / <f32>n : 0;
    const inv: f32 = 1 / Mathf.sqrt(rowSumSq(xr, n, mean) / <f32>n + eps);
    const mv = f32x4.splat(mean), iv = f32x4.splat(inv);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      let y = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + o), mv), iv), v128.load(w + o));
      if (centre) y = f32x4.add(y, v128.load(b + o));
      v128.store(or + o, y);
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      let y = (load<f32>(xr + o) - mean) * inv * load<f32>(w + o);
      if (centre) y += load<f32>(b + o);
      store<f32>(or + o, y);
    }
  }
}

/** out (m,n) = (x − mean)/√(var + eps) · w (n) + b (n); units are rows. */
export function layer_norm_f32(out: usize, x: usize, w: usize, b: usize, n: i32, eps: f32, start: i32, end: i32): void {
  normRows(out, x, w, b, n, eps, true, start, end);
}

/** out (m,n) = x/√(mean(x²) + eps) · w (n); units are rows. */
export function rms_norm_f32(out: usize, x: usize, w: usize, n: i32, eps: f32, start: i32, end: i32): void {
  normRows(out, x, w, 0, n, eps, false, start, end);
}
