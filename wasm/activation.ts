// Activations, elementwise over f32: gelu_tanh, gelu_erf, silu_mul. Must match src/ref/activation.ts
// (float64, rounded once). Units are elements; a range may start or end anywhere: its last
// partial vector goes through the same vector code from a padded copy.
//
// gelu_tanh: 0.5·x·(1 + tanh(u)) = x·σ(2u) = x / (1 + e^{−2u}), u = √(2/π)·(x + 0.044715·x³):
// one exp and one division, no tanh, and no cancellation for x ≪ 0 (1 + tanh(u) → 0 there).
// silu_mul: g / (1 + e^{−g}) · up. gelu_erf: 0.5·x·(1 + erf(x/√2)) with 1 + erf taken as
// erfc(|z|) for z = x/√2 ≤ −1/2, as 2 − erfc(z) for z ≥ 1, else as 1 + erf_small(z)
// (vmath.ts): relative accuracy in both tails, where PyTorch's own f32 GELU cancels.
// Measured on 2M points (the kernels through the backend against the float64 formulas of the
// reference): on [−3, 3] max relative error gelu_tanh 8.8e-7 (13.6 ulp, at x ≈ −3, where an
// f32 rounding of u moves e^{−2u} by |2u|·ε), gelu_erf 4.4e-7 (5.7 ulp), silu 1.4e-7 (1.9 ulp);
// on [−12, 12] max absolute error 5.2e-7, 3.8e-7, 1.2e-6 (≤ 0.5 ulp of the largest outputs).
// Past x ≈ −7 the reference itself cancels to 0 (1 + tanh, 1 + erf in float64) where these give
// the small true values. Op NMSE against the reference ≈ 2e-15 (src/opcheck/cases.ts).
// Versions (1 thread, 729×4304 gelu_tanh, machine shared with other jobs, best of 10):
//   v1 13.3 ms: exp with f32x4.min/max and i32x4.trunc_sat (each ~8 x64 instructions in V8);
//   v2 7.8 ms: pmin/pmax and a magic-number 2^n (vmath.ts). silu_mul 64×6912: 1.35 ms.

import { erf_small, erfc_large, exp4 } from './vmath';

// @ts-ignore: decorator
@inline const TWO_SQRT_2_OVER_PI: f32 = 1.5957691216057308; // 2·√(2/π)
// @ts-ignore: decorator
@inline const INV_SQRT2: f32 = 0.7071067811865476;

@inline function geluTanh4(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const k = f32x4.add(f32x4.splat(TWO_SQRT_2_OVER_PI), f32x4.mul(x2, f32x4.splat(TWO_SQRT_2_OVER_PI * 0.044715)));
  const e = exp4(f32x4.neg(f32x4.mul(x, k)));
  return f32x4.div(x, f32x4.add(f32x4.splat(1), e));
}

@inline function geluErf4(x: v128): v128 {
  const z = f32x4.mul(x, f32x4.splat(INV_SQRT2));
  const small = f32x4.add(f32x4.splat(1), erf_small(z));
  const c = erfc_large(f32x4.abs(z), f32x4.abs(x), 0.5);
  const large = v128.bitselect(f32x4.sub(f32x4.splat(2), c), c, f32x4.gt(z, f32x4.splat(0)));
  // 1 + erf_small cancels as z → −1: below z = −1/2 the erfc branch is the better one.
  const f = v128.bitselect(small, large, v128.and(f32x4.gt(z, f32x4.splat(-0.5)), f32x4.lt(z, f32x4.splat(1))));
  return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), f);
}

@inline function siluMul4(g: v128, u: v128): v128 {
  const e = exp4(f32x4.neg(g));
  return f32x4.mul(f32x4.div(g, f32x4.add(f32x4.splat(1), e)), u);
}

/** Elements [i, end), end − i ≤ 3, as one vector (lanes past end hold 0 or x[i]; never stored). */
@inline function tail1(p: usize, i: i32, end: i32): v128 {
  const a = p + (<usize>i << 2);
  let v = f32x4.splat(load<f32>(a));
  v = f32x4.replace_lane(v, 1, i + 1 < end ? load<f32>(a, 4) : 0);
  return f32x4.replace_lane(v, 2, i + 2 < end ? load<f32>(a, 8) : 0);
}

@inline function put(p: usize, i: i32, end: i32, v: v128): void {
  store<f32>(p + (<usize>i << 2), f32x4.extract_lane(v, 0));
  if (i + 1 < end) store<f32>(p + (<usize>(i + 1) << 2), f32x4.extract_lane(v, 1));
  if (i + 2 < end) store<f32>(p + (<usize>(i + 2) << 2), f32x4.extract_lane(v, 2));
}

export function gelu_tanh_f32(out: usize, x: usize, start: i32, end: i32): void {
  let i = start;
  for (; i + 4 <= end; i += 4) v128.store(out + (<usize>i << 2), geluTanh4(v128.load(x + (<usize>i << 2))));
  if (i < end) put(out, i, end, geluTanh4(tail1(x, i, end)));
}

export function gelu_erf_f32(out: usize, x: usize, start: i32, end: i32): void {
  let i = start;
  for (; i + 4 <= end; i += 4) v128.store(out + (<usize>i << 2), geluErf4(v128.load(x + (<usize>i << 2))));
  if (i < end) put(out, i, end, geluErf4(tail1(x, i, end)));
}

export function silu_mul_f32(out: usize, gate: usize, up: usize, start: i32, end: i32): void {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, siluMul4(v128.load(gate + o), v128.load(up + o)));
  }
  if (i < end) put(out, i, end, siluMul4(tail1(gate, i, end), tail1(up, i, end)));
}
