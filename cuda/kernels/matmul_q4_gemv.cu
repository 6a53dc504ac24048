// matmul_q4_gemv.cu: vila_matmul_q4_f32, the entry point, and its decode path (m ≤ 8).
// Reference: src/ref/matmul_q4.ts with dequantizeQ4Row (src/quant/q4.ts): every weight is
// round(q·s + sz) in the scale dtype (bit-exact here, see q4.cuh), dotted in float64. Here the
// dot runs in f32 (fmaf) with a tree reduction: NMSE ~1e-13 against the reference.
//
// GEMV layout (v1): one block of 4 warps per row block (4 outputs); the 2k bytes of the row
// block are cut into 512-byte chunks (4 K tiles of 64), chunk c going to warp c mod 4. In a
// chunk lane l loads the 16 bytes of K tile l>>3, row (l>>1)&3, K half l&1: 32 consecutive K
// values of one row (one 128-bit load; the warp reads 512 contiguous bytes), reads s and sz of
// that group once, dequantizes with the lop3 trick and __hfma2 in the scale dtype, and dots
// against up to 8 activation rows in f32 (x through L1, float4). Each warp issues the loads of
// 4 chunks (2 for m > 1) before computing any of them. Partial sums meet by shuffles over the lanes of
// the same row (xor 1, 8, 16) and across warps in shared memory. Requires group % 32 == 0
// and 16-byte aligned qweight and x; otherwise (and for G not a multiple of 32 at any m) the
// generic kernel of q4.cuh runs.
// Larger m goes to matmul_q4_gemm.cu (tensor cores).
//
// Figures: not measured yet (written without a GPU); build/cuda/check_ops prints them (GB/s vs
// the device copy, TFLOP/s, µs) and they belong here, per version, once run.

#include "q4.cuh"

namespace vila {

vila_status q4_gemm(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, vila_dtype sd, int G,
                    const void *bias, vila_dtype bias_dtype, int m, int n, int k);

namespace {

constexpr int QV_WARPS = 4;

template <vila_dtype SD>
struct Deq32;

// Dequantize the 32 K values of one 128-bit load into w[0..31] (natural K order).
template <>
struct Deq32<VILA_F16> {
  using Raw = unsigned short;
  static __device__ __forceinline__ Raw load(const void *p, size_t i) { return __ldg(static_cast<const unsigned short *>(p) + i); }
  static __device__ __forceinline__ void run(const uint4 &q, Raw sr, Raw zr, float *w) {
    const __half2 s2 = __half2half2(__ushort_as_half(sr)), z2 = __half2half2(__ushort_as_half(zr));
    const uint32_t v[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
    for (int p = 0; p < 4; p++)
#pragma unroll
      for (int u = 0; u < 4; u++) {
        const float2 f = Q4Deq<VILA_F16>::to_f2(Q4Deq<VILA_F16>::pair(v[p], u, s2, z2));
        w[8 * u + 2 * p] = f.x;
        w[8 * u + 2 * p + 1] = f.y;
      }
  }
};
template <>
struct Deq32<VILA_BF16> {
  using Raw = unsigned short;
  static __device__ __forceinline__ Raw load(const void *p, size_t i) { return __ldg(static_cast<const unsigned short *>(p) + i); }
  static __device__ __forceinline__ void run(const uint4 &q, Raw sr, Raw zr, float *w) {
    const uint32_t sb = (uint32_t)sr * 0x10001u, zb = (uint32_t)zr * 0x10001u;
    const __nv_bfloat162 s2 = *reinterpret_cast<const __nv_bfloat162 *>(&sb), z2 = *reinterpret_cast<const __nv_bfloat162 *>(&zb);
    const uint32_t v[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
    for (int p = 0; p < 4; p++)
#pragma unroll
      for (int u = 0; u < 4; u++) {
        const float2 f = Q4Deq<VILA_BF16>::to_f2(Q4Deq<VILA_BF16>::pair(v[p], u, s2, z2));
        w[8 * u + 2 * p] = f.x;
        w[8 * u + 2 * p + 1] = f.y;
      }
  }
};
template <>
struct Deq32<VILA_F32> {
  using Raw = float;
  static __device__ __forceinline__ Raw load(const void *p, size_t i) { return __ldg(static_cast<const float *>(p) + i); }
  static __device__ __forceinline__ void run(const uint4 &q, Raw sv, Raw zv, float *w) {
    const uint32_t v[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
    for (int p = 0; p < 4; p++)
#pragma unroll
      for (int u = 0; u < 4; u++) {
        w[8 * u + 2 * p] = fmaf((float)((v[p] >> (4 * u)) & 0xf), sv, zv);
        w[8 * u + 2 * p + 1] = fmaf((float)((v[p] >> (16 + 4 * u)) & 0xf), sv, zv);
      }
  }
};

template <vila_dtype SD, int MAXM>
__global__ void __launch_bounds__(QV_WARPS * 32) q4_gemv_kernel(float *__restrict__ out, const float *__restrict__ x,
                                                                 const uint16_t *__restrict__ qw, const void *s, const void *z,
                                                                 int G, const void *bias, vila_dtype bias_dtype, int m, int n,
                                                                 int k) {
  __shared__ float red[QV_WARPS][MAXM][4];
  const int rb = blockIdx.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int tl = lane >> 3, r = (lane >> 1) & 3, hh = lane & 1;
  const int o = rb * 4 + r;
  const int tiles = k >> 6;
  const int chunks = (tiles + 3) >> 2;
  const uint4 *base = reinterpret_cast<const uint4 *>(qw + (size_t)rb * k) + r * 2 + hh;

  float acc[MAXM];
#pragma unroll
  for (int i = 0; i < MAXM; i++) acc[i] = 0.0f;

  // U chunks per warp per round: all U 128-bit loads are issued before any is used, so each
  // warp keeps U·512 bytes in flight (memory-level parallelism is what a GEMV lives on).
  constexpr int U = MAXM == 1 ? 4 : 2;
  for (int c0 = warp; c0 < chunks; c0 += QV_WARPS * U) {
    uint4 q[U];
    typename Deq32<SD>::Raw sr[U], zr[U];
#pragma unroll
    for (int u = 0; u < U; u++) {
      const int t = (c0 + u * QV_WARPS) * 4 + tl;
      q[u] = make_uint4(0, 0, 0, 0);
      sr[u] = zr[u] = 0;
      if (t < tiles) {
        q[u] = __ldcs(base + (size_t)t * 8);
        const size_t si = (size_t)((t * 64 + hh * 32) / G) * n + o;
        sr[u] = Deq32<SD>::load(s, si);
        zr[u] = Deq32<SD>::load(z, si);
      }
    }
#pragma unroll
    for (int u = 0; u < U; u++) {
      const int t = (c0 + u * QV_WARPS) * 4 + tl;
      if (t < tiles) {
        const int kb = t * 64 + hh * 32;
        float w[32];
        Deq32<SD>::run(q[u], sr[u], zr[u], w);
#pragma unroll
        for (int i = 0; i < MAXM; i++) {
          if (i < m) {
            const float4 *xp = reinterpret_cast<const float4 *>(x + (size_t)i * k + kb);
            float a = acc[i];
#pragma unroll
            for (int j = 0; j < 8; j++) {
              const float4 xv = __ldg(xp + j);
              a = fmaf(xv.x, w[4 * j], a);
              a = fmaf(xv.y, w[4 * j + 1], a);
              a = fmaf(xv.z, w[4 * j + 2], a);
              a = fmaf(xv.w, w[4 * j + 3], a);
            }
            acc[i] = a;
          }
        }
      }
    }
  }
#pragma unroll
  for (int i = 0; i < MAXM; i++) {
    if (i < m) {
      float a = acc[i];
      a += __shfl_xor_sync(0xffffffffu, a, 1);
      a += __shfl_xor_sync(0xffffffffu, a, 8);
      a += __shfl_xor_sync(0xffffffffu, a, 16);
      if ((lane & 0x19) == 0) red[warp][i][r] = a;  // lanes 0, 2, 4, 6 hold rows 0..3
    }
  }
  __syncthreads();
  const int tid = threadIdx.x;
  if (tid < m * 4) {
    const int i = tid >> 2, rr = tid & 3;
    float sum = 0.0f;
#pragma unroll
    for (int w = 0; w < QV_WARPS; w++) sum += red[w][i][rr];
    const int oo = rb * 4 + rr;
    out[(size_t)i * n + oo] = sum + (bias != nullptr ? load_f(bias, bias_dtype, oo) : 0.0f);
  }
}

template <vila_dtype SD>
vila_status q4_gemv(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, int G, const void *bias,
                    vila_dtype bias_dtype, int m, int n, int k) {
  const int blocks = n / 4;
  if (m == 1)
    q4_gemv_kernel<SD, 1><<<blocks, QV_WARPS * 32, 0, stream()>>>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k);
  else
    q4_gemv_kernel<SD, 8><<<blocks, QV_WARPS * 32, 0, stream()>>>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k);
  return launch_status("matmul_q4 (gemv)");
}

}  // namespace

vila_status q4_generic(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, vila_dtype sd, int G,
                       const void *bias, vila_dtype bias_dtype, int m, int n, int k) {
  const long long warps = (long long)m * n;
  const long long blocks = (warps + 7) / 8;
  if (blocks > 2147483647LL) return fail(VILA_ERR_ARG, "matmul_q4: m·n too large");
  const cudaStream_t st = stream();
  switch (sd) {
    case VILA_F16: q4_generic_kernel<VILA_F16><<<(unsigned)blocks, 256, 0, st>>>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k); break;
    case VILA_BF16: q4_generic_kernel<VILA_BF16><<<(unsigned)blocks, 256, 0, st>>>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k); break;
    default: q4_generic_kernel<VILA_F32><<<(unsigned)blocks, 256, 0, st>>>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k); break;
  }
  return launch_status("matmul_q4 (generic)");
}

}  // namespace vila

using namespace vila;

extern "C" vila_status vila_matmul_q4_f32(float *out, const float *x, const uint16_t *qweight, const void *scales,
                                          const void *scaled_zeros, vila_dtype scale_dtype, int group_size, const void *bias,
                                          vila_dtype bias_dtype, int m, int n, int k) {
  VILA_CHECK_DTYPE(scale_dtype);
  if (bias != nullptr) VILA_CHECK_DTYPE(bias_dtype);
  if (m < 0 || n <= 0 || k <= 0 || n % 4 != 0 || k % 64 != 0 || group_size <= 0 || k % group_size != 0)
    return fail(VILA_ERR_ARG, "matmul_q4: m %d, n %d (needs %% 4), k %d (needs %% 64), group size %d (must divide k)", m, n, k,
                group_size);
  if (m == 0) return VILA_OK;
  const bool fast = group_size % 32 == 0;
  if (m <= 8) {
    if (!fast || !aligned16(qweight) || !aligned16(x))
      return q4_generic(out, x, qweight, scales, scaled_zeros, scale_dtype, group_size, bias, bias_dtype, m, n, k);
    switch (scale_dtype) {
      case VILA_F16: return q4_gemv<VILA_F16>(out, x, qweight, scales, scaled_zeros, group_size, bias, bias_dtype, m, n, k);
      case VILA_BF16: return q4_gemv<VILA_BF16>(out, x, qweight, scales, scaled_zeros, group_size, bias, bias_dtype, m, n, k);
      default: return q4_gemv<VILA_F32>(out, x, qweight, scales, scaled_zeros, group_size, bias, bias_dtype, m, n, k);
    }
  }
  if (!fast) return q4_generic(out, x, qweight, scales, scaled_zeros, scale_dtype, group_size, bias, bias_dtype, m, n, k);
  return q4_gemm(out, x, qweight, scales, scaled_zeros, scale_dtype, group_size, bias, bias_dtype, m, n, k);
}
