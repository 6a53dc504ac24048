// vision.cu: patch_embed (SigLIP's Conv2d with kernel = stride = patch) and VILA's
// downsample_2x2 (DownSampleBlock). Reference: src/ref/vision.ts.
// patch_embed: im2col into a scratch buffer (patches, c·p·p) in the weight's (c, ky, kx) order,
// then the dense matmul (matmul.cu) against weight viewed as (d, c·p·p) with the bias; its
// accuracy is the matmul's (see matmul.cu). downsample_2x2 is a gather: exact.

#include "common.cuh"

namespace {

__global__ void im2col_kernel(float *cols, const float *px, int c, int h, int w, int p, int gw, int kk) {
  const int patch = blockIdx.x;
  const int gy = patch / gw, gx = patch - gy * gw;
  float *dst = cols + (size_t)patch * kk;
  for (int i = threadIdx.x; i < kk; i += blockDim.x) {
    const int ch = i / (p * p);
    const int rem = i - ch * p * p;
    const int ky = rem / p, kx = rem - ky * p;
    dst[i] = px[(size_t)ch * h * w + (size_t)(gy * p + ky) * w + gx * p + kx];
  }
}

__global__ void downsample_kernel(float *out, const float *x, int grid, int c, int half) {
  const int t = blockIdx.x;  // t = j·half + i
  const int j = t / half, i = t - j * half;
  float *o = out + (size_t)t * 4 * c;
  for (int b = 0; b < 4; b++) {
    const int y = 2 * i + (b >> 1), xx = 2 * j + (b & 1);
    const bool in = y < grid && xx < grid;
    const float *src = x + ((size_t)y * grid + xx) * c;
    for (int e = threadIdx.x; e < c; e += blockDim.x) o[b * c + e] = in ? src[e] : 0.0f;
  }
}

}  // namespace

extern "C" {

vila_status vila_patch_embed_f32(float *out, const float *pixels, const void *weight, const void *bias, vila_dtype dtype, int c,
                                 int h, int w, int d, int patch) {
  VILA_CHECK_DTYPE(dtype);
  if (c <= 0 || h <= 0 || w <= 0 || d <= 0 || patch <= 0)
    return vila::fail(VILA_ERR_ARG, "patch_embed: c %d, h %d, w %d, d %d, patch %d", c, h, w, d, patch);
  const int gh = h / patch, gw = w / patch;
  const int patches = gh * gw;
  if (patches == 0) return VILA_OK;
  const int kk = c * patch * patch;
  void *cols = nullptr;
  vila_status st = vila::scratch(vila::SCRATCH_IM2COL, (size_t)patches * kk * sizeof(float), &cols);
  if (st != VILA_OK) return st;
  im2col_kernel<<<patches, 256, 0, vila::stream()>>>(static_cast<float *>(cols), pixels, c, h, w, patch, gw, kk);
  st = vila::launch_status("patch_embed im2col");
  if (st != VILA_OK) return st;
  return vila::matmul_launch(out, static_cast<const float *>(cols), weight, dtype, bias, dtype, patches, d, kk);
}

vila_status vila_downsample_2x2_f32(float *out, const float *x, int grid, int c) {
  if (grid <= 0 || c <= 0) return vila::fail(VILA_ERR_ARG, "downsample_2x2: grid %d, c %d", grid, c);
  const int half = (grid + 1) / 2;
  downsample_kernel<<<half * half, 256, 0, vila::stream()>>>(out, x, grid, c, half);
  return vila::launch_status("downsample_2x2");
}

}  // extern "C"
