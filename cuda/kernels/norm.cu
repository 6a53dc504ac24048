// norm.cu: rms_norm and layer_norm, one block per row.
// Reference: src/ref/norm.ts (float64 statistics). Here the row is summed in f32 per thread and
// reduced as a tree (warp shuffles, then shared memory), so the statistics carry ~1e-7 relative
// error; layer_norm takes the mean first, then the centred sum of squares (two passes over the
// row, as the reference), never E[x²] − mean². out = x·inv·w (+ b) in f32. NMSE ~1e-14.

#include "common.cuh"

namespace {

constexpr int kThreads = 256;

__device__ float block_sum(float v, float *sh) {
  v = vila::warp_sum(v);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  __syncthreads();  // sh may still be read from a previous reduction
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  float t = lane < (int)(blockDim.x >> 5) ? sh[lane] : 0.0f;
  return vila::warp_sum(t);
}

__global__ void rms_norm_kernel(float *out, const float *x, const void *w, vila_dtype dt, float eps, int n) {
  __shared__ float sh[32];
  const float *xr = x + (size_t)blockIdx.x * n;
  float *orow = out + (size_t)blockIdx.x * n;
  float ss = 0.0f;
  for (int j = threadIdx.x; j < n; j += blockDim.x) ss = fmaf(xr[j], xr[j], ss);
  ss = block_sum(ss, sh);
  const float inv = 1.0f / sqrtf(ss / (float)n + eps);
  for (int j = threadIdx.x; j < n; j += blockDim.x) orow[j] = xr[j] * inv * vila::load_f(w, dt, j);
}

__global__ void layer_norm_kernel(float *out, const float *x, const void *w, const void *b, vila_dtype dt, float eps, int n) {
  __shared__ float sh[32];
  const float *xr = x + (size_t)blockIdx.x * n;
  float *orow = out + (size_t)blockIdx.x * n;
  float s = 0.0f;
  for (int j = threadIdx.x; j < n; j += blockDim.x) s += xr[j];
  const float mean = block_sum(s, sh) / (float)n;
  float v = 0.0f;
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    const float d = xr[j] - mean;
    v = fmaf(d, d, v);
  }
  v = block_sum(v, sh);
  const float inv = 1.0f / sqrtf(v / (float)n + eps);
  for (int j = threadIdx.x; j < n; j += blockDim.x) orow[j] = (xr[j] - mean) * inv * vila::load_f(w, dt, j) + vila::load_f(b, dt, j);
}

vila_status check_mn(const char *op, int m, int n) {
  if (m < 0 || n <= 0 || m > 2147483647) return vila::fail(VILA_ERR_ARG, "%s: m = %d, n = %d", op, m, n);
  return VILA_OK;
}

}  // namespace

extern "C" {

vila_status vila_rms_norm_f32(float *out, const float *x, const void *weight, vila_dtype dtype, float eps, int m, int n) {
  VILA_CHECK_DTYPE(dtype);
  vila_status st = check_mn("rms_norm", m, n);
  if (st != VILA_OK || m == 0) return st;
  rms_norm_kernel<<<m, kThreads, 0, vila::stream()>>>(out, x, weight, dtype, eps, n);
  return vila::launch_status("rms_norm");
}

vila_status vila_layer_norm_f32(float *out, const float *x, const void *weight, const void *bias, vila_dtype dtype, float eps,
                                int m, int n) {
  VILA_CHECK_DTYPE(dtype);
  vila_status st = check_mn("layer_norm", m, n);
  if (st != VILA_OK || m == 0) return st;
  layer_norm_kernel<<<m, kThreads, 0, vila::stream()>>>(out, x, weight, bias, dtype, eps, n);
  return vila::launch_status("layer_norm");
}

}  // extern "C"
