// rope: rotate-half rotary embedding in place on x (m, heads·headDim), HF Llama (transformers
// 4.36). Must match src/ref/rope.ts, and does so bit for bit: the host builds the per-row cos/sin
// tables exactly as the reference does (f32 angles, f32 cos/sin); here a·cos − b·sin is formed
// in f64x2 (both products exact, one f64 rounding, one f32 rounding on store), the same operations
// as the reference's float64 arithmetic. Units are (row, head) pairs, u = row·heads + head.
// Cost is ~2× an f32x4 version; rope moves (m·width) floats once, far from mattering.

@inline function lo2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline function hi2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/** f32x4 of (a·c − b·s) or (b·c + a·s) formed in f64 lanes; sign −1 or +1. */
@inline function rot(a: v128, b: v128, c: v128, s: v128, plus: bool): v128 {
  let l = f64x2.mul(lo2(a), lo2(c)), h = f64x2.mul(hi2(a), hi2(c));
  const bl = f64x2.mul(lo2(b), lo2(s)), bh = f64x2.mul(hi2(b), hi2(s));
  l = plus ? f64x2.add(l, bl) : f64x2.sub(l, bl);
  h = plus ? f64x2.add(h, bh) : f64x2.sub(h, bh);
  const fl = f32x4.demote_f64x2_zero(l), fh = f32x4.demote_f64x2_zero(h);
  return v128.shuffle<f32>(fl, fh, 0, 1, 4, 5);
}

/** x (m, heads·headDim) in place; cos, sin (m, headDim/2) f32 per row. */
export function rope_f32(x: usize, cos: usize, sin: usize, heads: i32, headDim: i32, start: i32, end: i32): void {
  const half = headDim >> 1;
  for (let u = start; u < end; u++) {
    const r = u / heads;
    const xa = x + ((<usize>u * headDim) << 2);
    const xb = xa + (<usize>half << 2);
    const cr = cos + ((<usize>r * half) << 2);
    const sr = sin + ((<usize>r * half) << 2);
    let j = 0;
    for (; j + 4 <= half; j += 4) {
      const o = <usize>j << 2;
      const a = v128.load(xa + o), b = v128.load(xb + o), c = v128.load(cr + o), s = v128.load(sr + o);
      v128.store(xa + o, rot(a, b, c, s, false));
      v128.store(xb + o, rot(b, a, c, s, true));
    }
    for (; j < half; j++) {
      const o = <usize>j << 2;
      const a = <f64>load<f32>(xa + o), b = <f64>load<f32>(xb + o);
      const c = <f64>load<f32>(cr + o), s = <f64>load<f32>(sr + o);
      store<f32>(xa + o, <f32>(a * c - b * s));
      store<f32>(xb + o, <f32>(b * c + a * s));
    }
  }
}
