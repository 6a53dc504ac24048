// Vision ops. Must match src/ref/vision.ts.
// downsample_2x2: pure data movement, exact (NMSE 0). Units are output tokens.
// patch_embed runs as patch_rows_f32 (pixels → one row of c·p·p values per patch, in the order
// of the conv weight's (c, p, p) axes, exact) followed by the matmul_<dtype> export with the
// weight viewed as (d, c·p·p): one GEMM, the same code and numerics as matmul.

/** Copy n floats (both ends 4-byte aligned; 16-byte vectors then scalars). */
@inline function copy(dst: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(dst + (<usize>j << 2), v128.load(src + (<usize>j << 2)));
  for (; j < n; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
}

@inline function zero(dst: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(dst + (<usize>j << 2), f32x4.splat(0));
  for (; j < n; j++) store<f32>(dst + (<usize>j << 2), 0);
}

/**
 * x (g·g, c) → out (h², 4c), h = ⌈g/2⌉, token t = j·h + i holding x(2i,2j), x(2i,2j+1),
 * x(2i+1,2j), x(2i+1,2j+1); cells past the grid (odd g) are zeros.
 */
export function downsample_2x2_f32(out: usize, x: usize, grid: i32, c: i32, start: i32, end: i32): void {
  const h = (grid + 1) >> 1;
  for (let t = start; t < end; t++) {
    const i = t % h, j = t / h;
    for (let b = 0; b < 4; b++) {
      const y = 2 * i + (b >> 1), xx = 2 * j + (b & 1);
      const dst = out + ((<usize>(t * 4 + b) * c) << 2);
      if (y < grid && xx < grid) copy(dst, x + ((<usize>(y * grid + xx) * c) << 2), c);
      else zero(dst, c);
    }
  }
}

/** pixels (c,h,w) → rows (gh·gw, c·p·p), row q = patch (q / gw, q % gw); units are patches. */
export function patch_rows_f32(rows: usize, pixels: usize, c: i32, h: i32, w: i32, p: i32, start: i32, end: i32): void {
  const gw = w / p;
  const k = c * p * p;
  for (let q = start; q < end; q++) {
    const gy = q / gw, gx = q % gw;
    let dst = rows + ((<usize>q * k) << 2);
    for (let ch = 0; ch < c; ch++) {
      for (let ky = 0; ky < p; ky++) {
        copy(dst, pixels + ((<usize>(ch * h + gy * p + ky) * w + gx * p) << 2), p);
        dst += <usize>p << 2;
      }
    }
  }
}
