// add, mul: out = a ∘ b elementwise, same shapes. Must match src/ref/elementwise.ts exactly (one
// f32 rounding of an exact float64 result is the f32 operation itself): NMSE 0. Units are
// elements; out may be a or b (in place). Memory-bound: 3 streams of 4 bytes per element.

export function add_f32(out: usize, a: usize, b: usize, start: i32, end: i32): void {
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
    v128.store(out + o, f32x4.add(v128.load(a + o, 16), v128.load(b + o, 16)), 16);
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

export function mul_f32(out: usize, a: usize, b: usize, start: i32, end: i32): void {
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    v128.store(out + o, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)), 16);
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}
