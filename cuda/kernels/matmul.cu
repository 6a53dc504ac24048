// matmul.cu: vila_matmul_f32, out (m,n) = x (m,k) · w (n,k)ᵀ + bias (n), w f32/f16/bf16.
// Reference: src/ref/matmul.ts (each weight row decoded to f32, dot in float64).
//
// Paths (chosen per call):
// - m ≤ 8, any dtype: GEMV. One warp per output column streams its weight row with 16-byte
//   loads (8 f16/bf16 or 4 f32 values; scalar loads when the rows are not 16-byte aligned),
//   decodes to f32 and dots against up to 8 activation rows (read through L1) in f32, then a
//   warp reduction. No rounding of x or w: NMSE ~1e-13 against the reference.
// - m > 8, f16 weights: gemm_tc<half> (gemm.cuh), x rounded to f16: NMSE ~1e-7.
// - m > 8, bf16 weights: gemm_tc<bf16, SPLIT>: x = hi + lo in two bf16 terms, two mma per tile:
//   NMSE ~1e-9 or better (one bf16 term alone would be ~1e-5).
// - m > 8, f32 weights: gemm_simt (plain f32 FMA, tiled), NMSE ~1e-13.
//
// Figures: not measured yet (written without a GPU); build/cuda/check_ops prints them (GB/s vs
// the device copy, TFLOP/s, µs) and they belong here, per version, once run.

#include "gemm.cuh"

namespace vila {
namespace {

constexpr int GV_WARPS = 8;

template <vila_dtype DT>
struct Elem;
template <>
struct Elem<VILA_F32> {
  static constexpr int PER16 = 4;
  static __device__ __forceinline__ void decode(const uint4 &u, float *o) {
    o[0] = __uint_as_float(u.x); o[1] = __uint_as_float(u.y); o[2] = __uint_as_float(u.z); o[3] = __uint_as_float(u.w);
  }
  static __device__ __forceinline__ float one(const void *w, size_t i) { return __ldg(static_cast<const float *>(w) + i); }
};
template <>
struct Elem<VILA_F16> {
  static constexpr int PER16 = 8;
  static __device__ __forceinline__ void decode(const uint4 &u, float *o) {
    const uint32_t a[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const float2 f = __half22float2(*reinterpret_cast<const __half2 *>(&a[i]));
      o[2 * i] = f.x; o[2 * i + 1] = f.y;
    }
  }
  static __device__ __forceinline__ float one(const void *w, size_t i) {
    return __half2float(__ushort_as_half(__ldg(static_cast<const unsigned short *>(w) + i)));
  }
};
template <>
struct Elem<VILA_BF16> {
  static constexpr int PER16 = 8;
  static __device__ __forceinline__ void decode(const uint4 &u, float *o) {
    const uint32_t a[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
      o[2 * i] = __uint_as_float(a[i] << 16);
      o[2 * i + 1] = __uint_as_float(a[i] & 0xffff0000u);
    }
  }
  static __device__ __forceinline__ float one(const void *w, size_t i) {
    return bf16_bits_to_f(__ldg(static_cast<const unsigned short *>(w) + i));
  }
};

/** One warp per output column; MAXM ≥ m activation rows. VEC: 16-byte loads of w (and of x). */
template <vila_dtype DT, int MAXM, bool VEC>
__global__ void __launch_bounds__(GV_WARPS * 32) gemv_kernel(float *__restrict__ out, const float *__restrict__ x, const void *w,
                                                              const void *bias, vila_dtype bias_dtype, int m, int n, int k) {
  const int lane = threadIdx.x & 31;
  const int col = blockIdx.x * GV_WARPS + (threadIdx.x >> 5);
  if (col >= n) return;
  float acc[MAXM];
#pragma unroll
  for (int i = 0; i < MAXM; i++) acc[i] = 0.0f;
  const size_t wrow = (size_t)col * k;
  if (VEC) {
    constexpr int P = Elem<DT>::PER16;
    const uint4 *wv = reinterpret_cast<const uint4 *>(static_cast<const char *>(w) + wrow * (DT == VILA_F32 ? 4 : 2));
    const int nv = k / P;
    constexpr int U = MAXM == 1 ? 4 : 2;  // loads issued per lane before any is used
    for (int v0 = lane; v0 < nv; v0 += 32 * U) {
      uint4 uu[U];
#pragma unroll
      for (int b = 0; b < U; b++) uu[b] = (v0 + 32 * b < nv) ? __ldcs(wv + v0 + 32 * b) : make_uint4(0, 0, 0, 0);
#pragma unroll
      for (int b = 0; b < U; b++) {
        const int v = v0 + 32 * b;
        if (v >= nv) break;
        float wf[P];
        Elem<DT>::decode(uu[b], wf);
#pragma unroll
        for (int i = 0; i < MAXM; i++) {
          if (i < m) {
            const float4 *xp = reinterpret_cast<const float4 *>(x + (size_t)i * k + (size_t)v * P);
#pragma unroll
            for (int q = 0; q < P / 4; q++) {
              const float4 xv = __ldg(xp + q);
              acc[i] = fmaf(xv.x, wf[4 * q], acc[i]);
              acc[i] = fmaf(xv.y, wf[4 * q + 1], acc[i]);
              acc[i] = fmaf(xv.z, wf[4 * q + 2], acc[i]);
              acc[i] = fmaf(xv.w, wf[4 * q + 3], acc[i]);
            }
          }
        }
      }
    }
  } else {
    for (int p = lane; p < k; p += 32) {
      const float wf = Elem<DT>::one(w, wrow + p);
#pragma unroll
      for (int i = 0; i < MAXM; i++)
        if (i < m) acc[i] = fmaf(__ldg(x + (size_t)i * k + p), wf, acc[i]);
    }
  }
  const float b = (bias != nullptr) ? load_f(bias, bias_dtype, col) : 0.0f;
#pragma unroll
  for (int i = 0; i < MAXM; i++) {
    if (i < m) {
      const float s = warp_sum(acc[i]);
      if (lane == 0) out[(size_t)i * n + col] = s + b;
    }
  }
}

template <vila_dtype DT>
vila_status gemv(float *out, const float *x, const void *w, const void *bias, vila_dtype bias_dtype, int m, int n, int k) {
  constexpr int P = Elem<DT>::PER16;
  const size_t esize = DT == VILA_F32 ? 4 : 2;
  const bool vec = aligned16(w) && aligned16(x) && (k % P == 0) && ((size_t)k * esize) % 16 == 0;
  const int blocks = ceil_div(n, GV_WARPS);
  const cudaStream_t s = stream();
  if (m == 1) {
    if (vec) gemv_kernel<DT, 1, true><<<blocks, GV_WARPS * 32, 0, s>>>(out, x, w, bias, bias_dtype, m, n, k);
    else gemv_kernel<DT, 1, false><<<blocks, GV_WARPS * 32, 0, s>>>(out, x, w, bias, bias_dtype, m, n, k);
  } else {
    if (vec) gemv_kernel<DT, 8, true><<<blocks, GV_WARPS * 32, 0, s>>>(out, x, w, bias, bias_dtype, m, n, k);
    else gemv_kernel<DT, 8, false><<<blocks, GV_WARPS * 32, 0, s>>>(out, x, w, bias, bias_dtype, m, n, k);
  }
  return launch_status("matmul (gemv)");
}

struct F32B {
  const float *w;
  int k;
  __device__ __forceinline__ float operator()(int col, int kk) const { return __ldg(w + (size_t)col * k + kk); }
};

template <class T>
vila_status gemm_dense(float *out, const float *x, const void *w, const void *bias, vila_dtype bias_dtype, int m, int n, int k) {
  constexpr bool SPLIT = sizeof(T) == 2 && !std::is_same<T, __half>::value;  // bf16: two-term activations
  if (k % 8 == 0 && aligned16(w)) {
    DenseB<T, true> bl{static_cast<const T *>(w), n, k};
    return gemm_tc<T, DenseB<T, true>, SPLIT>(out, x, bl, bias, bias_dtype, m, n, k, "matmul (tensor cores)");
  }
  DenseB<T, false> bl{static_cast<const T *>(w), n, k};
  return gemm_tc<T, DenseB<T, false>, SPLIT>(out, x, bl, bias, bias_dtype, m, n, k, "matmul (tensor cores)");
}

}  // namespace

vila_status matmul_launch(float *out, const float *x, const void *w, vila_dtype w_dtype, const void *bias, vila_dtype bias_dtype,
                          int m, int n, int k) {
  VILA_CHECK_DTYPE(w_dtype);
  if (bias != nullptr) VILA_CHECK_DTYPE(bias_dtype);
  if (m < 0 || n <= 0 || k <= 0) return fail(VILA_ERR_ARG, "matmul: m %d, n %d, k %d", m, n, k);
  if (m == 0) return VILA_OK;
  if (m <= 8) {
    switch (w_dtype) {
      case VILA_F32: return gemv<VILA_F32>(out, x, w, bias, bias_dtype, m, n, k);
      case VILA_F16: return gemv<VILA_F16>(out, x, w, bias, bias_dtype, m, n, k);
      default: return gemv<VILA_BF16>(out, x, w, bias, bias_dtype, m, n, k);
    }
  }
  switch (w_dtype) {
    case VILA_F16: return gemm_dense<__half>(out, x, w, bias, bias_dtype, m, n, k);
    case VILA_BF16: return gemm_dense<__nv_bfloat16>(out, x, w, bias, bias_dtype, m, n, k);
    default: return gemm_simt(out, x, F32B{static_cast<const float *>(w), k}, bias, bias_dtype, m, n, k, "matmul (f32 simt)");
  }
}

}  // namespace vila

extern "C" vila_status vila_matmul_f32(float *out, const float *x, const void *w, vila_dtype w_dtype, const void *bias,
                                       vila_dtype bias_dtype, int m, int n, int k) {
  return vila::matmul_launch(out, x, w, w_dtype, bias, bias_dtype, m, n, k);
}
