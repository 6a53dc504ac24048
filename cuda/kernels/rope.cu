// rope.cu: rotate-half RoPE in place (HF LlamaRotaryEmbedding, transformers 4.36).
// Reference: src/ref/rope.ts, which emulates PyTorch's float32 roundings:
//   inv_freq[j] = f32(1 / f32(θ^f32(2j/d))), angle = f32(pos·inv_freq[j]),
//   cos, sin = f32(cos(angle)), f32(sin(angle)).
// Each step here is computed the same way: the quotient 2j/d and 1/p in correctly rounded f32,
// θ^e and cos/sin in double (as JavaScript's Math.pow/Math.cos) then rounded once to f32, and
// the rotation a·cos − b·sin in double (exact products) rounded to f32 on store, so the result
// equals the reference except for ties in the last rounding.
// One block per row: the row's half-dim cos/sin table in shared memory, then every head.

#include "common.cuh"

namespace {

__global__ void rope_kernel(float *x, const int32_t *positions, int heads, int head_dim, float theta) {
  extern __shared__ float tab[];  // cos[half], sin[half]
  const int half = head_dim / 2;
  const int r = blockIdx.x;
  const double pos = (double)positions[r];
  for (int j = threadIdx.x; j < half; j += blockDim.x) {
    const float e = (float)(2 * j) / (float)head_dim;
    const float p = (float)pow((double)theta, (double)e);
    const float inv = 1.0f / p;
    const float angle = (float)(pos * (double)inv);
    tab[j] = (float)cos((double)angle);
    tab[half + j] = (float)sin((double)angle);
  }
  __syncthreads();
  float *row = x + (size_t)r * heads * head_dim;
  for (int idx = threadIdx.x; idx < heads * half; idx += blockDim.x) {
    const int h = idx / half, j = idx - h * half;
    float *base = row + (size_t)h * head_dim;
    const double a = base[j], b = base[j + half];
    const double c = tab[j], s = tab[half + j];
    base[j] = (float)(a * c - b * s);
    base[j + half] = (float)(b * c + a * s);
  }
}

}  // namespace

extern "C" vila_status vila_rope_f32(float *x, const int32_t *positions, int m, int heads, int head_dim, float theta) {
  if (m < 0 || heads <= 0 || head_dim <= 0 || head_dim % 2 != 0 || head_dim > 8192)
    return vila::fail(VILA_ERR_ARG, "rope: m %d, heads %d, head_dim %d", m, heads, head_dim);
  if (m == 0) return VILA_OK;
  rope_kernel<<<m, 128, head_dim * sizeof(float), vila::stream()>>>(x, positions, heads, head_dim, theta);
  return vila::launch_status("rope");
}
