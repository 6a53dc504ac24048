// Small SIMD helpers shared by the kernels: float conversions of 16-bit weights and horizontal
// sums. Everything is @inline so the kernels stay one function each after optimisation.

/** Four bf16 weights at p → f32x4 (exact: bf16 is the top half of f32). */
@inline export function bf16x4(p: usize): v128 {
  return i32x4.shl(v128.load16x4_u(p), 16);
}

/**
 * Four f16 weights at p → f32x4 (exact, subnormals included). The magnitude bits shifted into
 * f32 position read as a number 2^-112 too small (exponent bias 127 vs 15); one multiply by
 * 2^112 fixes normals and subnormals alike. Infinities/NaN (exponent 31) get exponent 255.
 */
@inline export function f16x4(p: usize): v128 {
  const h = v128.load16x4_u(p);
  const mag = i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13);
  let f = f32x4.mul(mag, f32x4.splat(5.192296858534828e33)); // 2^112
  const special = i32x4.eq(v128.and(h, i32x4.splat(0x7c00)), i32x4.splat(0x7c00));
  f = v128.bitselect(v128.or(mag, i32x4.splat(0x7f800000)), f, special);
  return v128.or(f, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** Four weights of type W at p as f32x4: f32 as is, u16 = bf16 bits, i16 = f16 bits. */
@inline export function load4<W>(p: usize): v128 {
  if (isFloat<W>()) return v128.load(p);
  if (isSigned<W>()) return f16x4(p);
  return bf16x4(p);
}

/** One weight of type W at p as f32. */
@inline export function load1<W>(p: usize): f32 {
  if (isFloat<W>()) return load<f32>(p);
  if (isSigned<W>()) return f16to32(<u32>load<u16>(p));
  return reinterpret<f32>(<u32>load<u16>(p) << 16);
}

/** Sum of the four lanes in a fixed order: (l0 + l2) + (l1 + l3). */
@inline export function hsum(a: v128): f32 {
  const s = f32x4.add(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Lane r of the result = sum of the four i32 lanes of the r-th argument. */
@inline export function hsum4_i32(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

/** One f16 bit pattern → f32, the scalar twin of f16x4. */
@inline export function f16to32(h: u32): f32 {
  const mag = (h & 0x7fff) << 13;
  let f = reinterpret<f32>(mag) * <f32>5.192296858534828e33;
  if ((h & 0x7c00) == 0x7c00) f = reinterpret<f32>(mag | 0x7f800000);
  return reinterpret<f32>(reinterpret<u32>(f) | ((h & 0x8000) << 16));
}

/**
 * a·b + c: one fused multiply-add in the relaxed-SIMD build (x86 vfmadd: half the instructions
 * of a multiply and an add), a multiply then an add in the SIMD128 build.
 */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
