import { madd } from './simd';

// This machine's ceilings, measured by the benchmarks in the same run as the kernels:
// the f32x4 multiply-add rate (12 independent accumulators, no loads) and a streaming read.

/**
 * 12 independent chains of f32x4 multiply-add (96 flops per iteration), the shape of a
 * register-blocked matmul's inner loop, with the build's own multiply-add (simd.ts madd: a
 * multiply then an add in SIMD128, one fused instruction in the relaxed build — on this machine
 * about 30 vs 50 GFLOP/s in V8). Returns a value that depends on every lane.
 */
export function ceiling_fma(iters: i32, seed: f32, _start: i32, _end: i32): f32 {
  const m = f32x4.splat(0.999999);
  const c = f32x4.splat(1e-7);
  let a0 = f32x4.splat(seed), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, m, c);
    a1 = madd(a1, m, c);
    a2 = madd(a2, m, c);
    a3 = madd(a3, m, c);
    a4 = madd(a4, m, c);
    a5 = madd(a5, m, c);
    a6 = madd(a6, m, c);
    a7 = madd(a7, m, c);
    a8 = madd(a8, m, c);
    a9 = madd(a9, m, c);
    a10 = madd(a10, m, c);
    a11 = madd(a11, m, c);
  }
  let acc = f32x4.splat(0); acc = f32x4.add(acc, a0); acc = f32x4.add(acc, a1); acc = f32x4.add(acc, a2); acc = f32x4.add(acc, a3); acc = f32x4.add(acc, a4); acc = f32x4.add(acc, a5); acc = f32x4.add(acc, a6); acc = f32x4.add(acc, a7); acc = f32x4.add(acc, a8); acc = f32x4.add(acc, a9); acc = f32x4.add(acc, a10); acc = f32x4.add(acc, a11);
  return f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
}

/** Read bytes [start·64, end·64) of a buffer with 16-byte loads; out[0] gets a checksum. */
export function ceiling_read(out: usize, src: usize, start: i32, end: i32): void {
  let a = i32x4.splat(0), b = a, c = a, d = a;
  for (let p = src + (<usize>start << 6), e = src + (<usize>end << 6); p < e; p += 64) {
    a = v128.xor(a, v128.load(p)); b = v128.xor(b, v128.load(p, 16));
    c = v128.xor(c, v128.load(p, 32)); d = v128.xor(d, v128.load(p, 48));
  }
  v128.store(out, v128.xor(v128.xor(a, b), v128.xor(c, d)));
}
