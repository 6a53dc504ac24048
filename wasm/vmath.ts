// Vectorised f32x4 exp and erf/erfc for the activations and the softmax (SIMD128 only). @inline.
//
// exp: Cephes expf. n = round(x·log2 e), r = x − n·ln2 in two parts (C1 has 9 significant bits,
// so n·C1 and x − n·C1 are exact), e^r by 1 + r + r²·P5(r) on |r| ≤ ln2/2, times 2^n built as
// bits. x < −87.34 gives 0 (no subnormal results), x > 88.72 gives +inf, NaN stays NaN.
// exp_hilo takes the argument as hi + lo with |lo| ≪ |hi| and adds lo after the exact reduction,
// so an argument such as −x² that is not representable in f32 costs no accuracy.
//
// erf/erfc: two fits of our own (Lawson-weighted least squares on the relative error, float64),
// evaluated in f32 by Horner; callers pick the branch they need with a lane select:
//   |z| ≤ 1:  erf(z) = z·P7(z²)                   fit 1.2e-9 relative
//   z ≥ 1/2:  erfc(z) = e^{−z²}·P4(z)/Q5(z)       fit 7.3e-10 relative on [1/2, 10]
// Eigen's single rational for erf on [−4, 4] (generic_fast_erf_float) was tried first: 4.4e-7
// absolute, 7.4 ulp near ±1, and 1 + erf(z) cancels for z ≪ 0 (gelu_erf's negative tail).
// Measured (4M points, against Math.exp and src/ref/erf.ts's float64 erf / erfc continued
// fraction): exp ≤ 0.99 ulp on [−87.3, 88] (3.9 ulp in (88, 88.72], where n is held at 127);
// erf ≤ 2.45 ulp (1.5e-7 absolute) on [−6, 6]; erfc ≤ 7.6 ulp (4.8e-7 relative, 1.3e-7
// absolute) on [1/2, 9], the f32 Horner steps of P and Q being most of it.

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const C1: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const C2: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const EXP_LO: f32 = -87.33654;
// @ts-ignore: decorator
@inline const EXP_HI: f32 = 88.8;

/** e^(hi + lo), |lo| small next to the reduction step (≤ 1e-3 · ulp-free). */
@inline export function exp_hilo(hi: v128, lo: v128): v128 {
  // pmin/pmax (one instruction each on x64, where min/max take ~8) keep a NaN in the first operand.
  const xc = f32x4.pmin(f32x4.pmax(hi, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  // n ≤ 127 keeps 2^n finite; above 88.38 the polynomial's y ≥ 1 carries the result to +inf.
  const n = f32x4.pmin(f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E))), f32x4.splat(127));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(C1)));
  r = f32x4.add(f32x4.sub(r, f32x4.mul(n, f32x4.splat(C2))), lo);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  // 2^n: n + 2^23 + 127 holds n + 127 in its low mantissa bits (i32x4.trunc_sat costs ~8 on x64).
  const pow2n = i32x4.shl(f32x4.add(n, f32x4.splat(8388735)), 23);
  return v128.andnot(f32x4.mul(y, pow2n), f32x4.lt(hi, f32x4.splat(EXP_LO)));
}

@inline export function exp4(x: v128): v128 {
  return exp_hilo(x, f32x4.splat(0));
}

/** Scalar e^x through the vector code (lane 0), for tails: the same numbers as exp4. */
@inline export function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** erf(z) for |z| ≤ 1 (z·P7(z²)). */
@inline export function erf_small(z: v128): v128 {
  const t = f32x4.mul(z, z);
  let p = f32x4.splat(7.85398800194903e-5);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-8.010229735617297e-4));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(5.188331529253742e-3));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-2.685381381003621e-2));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.1283585189610953e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-3.76126258274607e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.1283791657270892));
  return f32x4.mul(z, p);
}

/**
 * erfc(a) for a ≥ 1/2 given as a = k·s with s exact in f32 and k² = 1/2 or 1 (kk = k²): the
 * exponent −a² = −kk·s² is formed from a 12-bit split of s, exactly up to one rounding of a
 * small term, so erfc keeps its relative accuracy out to the f32 underflow (a ≈ 9.2).
 */
@inline export function erfc_large(a: v128, s: v128, kk: f32): v128 {
  const ac = f32x4.pmin(a, f32x4.splat(10));
  const sc = f32x4.pmin(s, f32x4.splat(10 / Mathf.sqrt(kk)));
  const sh = v128.and(sc, i32x4.splat(0xfffff000));
  const hi = f32x4.mul(f32x4.mul(sh, sh), f32x4.splat(-kk));
  const lo = f32x4.mul(f32x4.mul(f32x4.sub(sc, sh), f32x4.add(sc, sh)), f32x4.splat(-kk));
  let p = f32x4.splat(0.043554127743791415);
  p = f32x4.add(f32x4.mul(p, ac), f32x4.splat(0.27291393748276804));
  p = f32x4.add(f32x4.mul(p, ac), f32x4.splat(0.8170171458166424));
  p = f32x4.add(f32x4.mul(p, ac), f32x4.splat(1.3130650974053277));
  p = f32x4.add(f32x4.mul(p, ac), f32x4.splat(1.0000097793768756));
  let q = f32x4.splat(0.07719739071735998);
  q = f32x4.add(f32x4.mul(q, ac), f32x4.splat(0.4837395144086649));
  q = f32x4.add(f32x4.mul(q, ac), f32x4.splat(1.4865018280490483));
  q = f32x4.add(f32x4.mul(q, ac), f32x4.splat(2.5715745443068103));
  q = f32x4.add(f32x4.mul(q, ac), f32x4.splat(2.4415397524614777));
  q = f32x4.add(f32x4.mul(q, ac), f32x4.splat(1.0));
  return f32x4.mul(exp_hilo(hi, lo), f32x4.div(p, q));
}
