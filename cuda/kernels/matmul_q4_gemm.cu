// matmul_q4_gemm.cu: the prefill path of vila_matmul_q4_f32 (m > 8), int4 TinyChat v2 weights
// dequantized into shared memory tiles and multiplied on tensor cores.
// Reference: src/ref/matmul_q4.ts (bit-exact dequantization §2.4, float64 dot).
//
// v1: gemm_tc of gemm.cuh (CTA 128×128×32, mma.sync m16n8k16, f32 accumulation) with a B loader
// that reads, per thread, 8 bytes of qweight (16 K values of one output row: the 32 K values of
// one row in a 32-wide K step are 16 contiguous bytes, §2.3) plus that row's s and sz, and
// writes round(q·s + sz) in the scale dtype (lop3 + __hfma2, exact) to the shared tile.
// - f16 scales: x rounded to f16 for the mma: NMSE ~1e-7 against the reference.
// - bf16 scales: x split into two bf16 terms (hi + lo), NMSE ~1e-9 or better.
// - f32 scales: gemm_simt with an exact f32 dequantizing loader (NMSE ~1e-13).
// Needs group % 32 == 0 (each 32-wide K step inside one group) and k % 64 == 0 (the layout).
//
// Figures: not measured yet (written without a GPU); build/cuda/check_ops prints them (GB/s vs
// the device copy, TFLOP/s, µs) and they belong here, per version, once run.

#include "gemm.cuh"
#include "q4.cuh"

namespace vila {
namespace {

template <vila_dtype SD>
struct Q4B {
  using D = Q4Deq<SD>;
  using T = typename D::T;
  using T2 = typename D::T2;
  const uint16_t *qw;
  const void *s, *z;
  int n, k, G;
  uint2 v;
  T2 s2, z2;
  __device__ __forceinline__ void load(int col0, int k0) {
    const int row = threadIdx.x >> 1, hh = threadIdx.x & 1;
    const int o = col0 + row;
    if (o < n) {
      const size_t idx = (size_t)(o >> 2) * k + (k0 & ~63) + ((o & 3) << 4) + (((k0 >> 5) & 1) << 3) + hh * 4;
      v = __ldg(reinterpret_cast<const uint2 *>(qw + idx));
      const size_t si = (size_t)(k0 / G) * n + o;
      s2 = D::load2(s, si);
      z2 = D::load2(z, si);
    } else {
      v = make_uint2(0, 0);  // rows past n: 0·0 + 0 = 0
      const uint32_t zero = 0;
      s2 = *reinterpret_cast<const T2 *>(&zero);
      z2 = s2;
    }
  }
  __device__ __forceinline__ void store(T *bs) const {
    const int row = threadIdx.x >> 1, hh = threadIdx.x & 1;
    T *dst = bs + row * TC_LD + hh * 4;
    const uint32_t w[2] = {v.x, v.y};
#pragma unroll
    for (int p = 0; p < 2; p++)
#pragma unroll
      for (int u = 0; u < 4; u++) {
        const T2 d = D::pair(w[p], u, s2, z2);
        *reinterpret_cast<T2 *>(dst + 8 * u + 2 * p) = d;
      }
  }
};

struct Q4F32B {
  const uint16_t *qw;
  const float *s, *z;
  int n, k, G;
  __device__ __forceinline__ float operator()(int col, int kk) const {
    const size_t si = (size_t)(kk / G) * n + col;
    return fmaf((float)q4_at(qw, k, col, kk), __ldg(s + si), __ldg(z + si));
  }
};

}  // namespace

vila_status q4_gemm(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, vila_dtype sd, int G,
                    const void *bias, vila_dtype bias_dtype, int m, int n, int k) {
  const bool a8 = (reinterpret_cast<uintptr_t>(qw) & 7) == 0;
  if (sd == VILA_F16 && a8) {
    Q4B<VILA_F16> bl{qw, s, z, n, k, G};
    return gemm_tc<__half, Q4B<VILA_F16>, false>(out, x, bl, bias, bias_dtype, m, n, k, "matmul_q4 (tensor cores)");
  }
  if (sd == VILA_BF16 && a8) {
    Q4B<VILA_BF16> bl{qw, s, z, n, k, G};
    return gemm_tc<__nv_bfloat16, Q4B<VILA_BF16>, true>(out, x, bl, bias, bias_dtype, m, n, k, "matmul_q4 (tensor cores)");
  }
  if (sd == VILA_F32)
    return gemm_simt(out, x, Q4F32B{qw, static_cast<const float *>(s), static_cast<const float *>(z), n, k, G}, bias, bias_dtype, m,
                     n, k, "matmul_q4 (f32 simt)");
  return q4_generic(out, x, qw, s, z, sd, G, bias, bias_dtype, m, n, k);
}

}  // namespace vila
