// q4.cuh: int4 TinyChat v2 helpers shared by the GEMV and GEMM (spec/awq.md §2.3, §2.4, §4.1).
//
// Layout: row block o>>2 is k contiguous uint16 words; in each 64-wide K tile the 4 rows own
// 16 words each (row o&3 at words 16·(o&3)), 8 words for K offsets 0..31 then 8 for 32..63,
// and in word j nibble u is K offset 8u + j. So a 32-bit pair of words (j, j+1), shifted right
// by 4u and masked with 0x000F000F, holds the nibbles of K offsets 8u+j and 8u+j+1 in its two
// 16-bit halves: OR-ing 0x6400 (f16 1024) or 0x4300 (bf16 128) makes two floats 1024+q or 128+q
// (the lop3 trick), and subtracting the magic gives q exactly.
//
// Dequantization must equal the reference bit for bit: W = round(q·s + sz) to the scale dtype,
// one rounding. __hfma2 (fma.rn.f16x2 / fma.rn.bf16x2) and fmaf are single-rounding fused
// operations, so q·s + sz computed that way is exactly the reference's value.
#pragma once

#include "common.cuh"

namespace vila {

/** Index (in uint16 words) of the word holding q[o][i] (§2.3); its nibble is (i>>3)&3. */
__device__ __forceinline__ size_t q4_index(int k, int o, int i) {
  return (size_t)(o >> 2) * k + (i & ~63) + ((o & 3) << 4) + (((i >> 5) & 1) << 3) + (i & 7);
}
__device__ __forceinline__ int q4_at(const uint16_t *qw, int k, int o, int i) {
  return (__ldg(qw + q4_index(k, o, i)) >> (4 * ((i >> 3) & 3))) & 0xf;
}

template <vila_dtype SD>
struct Q4Deq;

template <>
struct Q4Deq<VILA_F16> {
  using T = __half;
  using T2 = __half2;
  static __device__ __forceinline__ T2 load2(const void *p, size_t i) {
    return __half2half2(__ushort_as_half(__ldg(static_cast<const unsigned short *>(p) + i)));
  }
  /** Two dequantized weights (K offsets 8u+j, 8u+j+1) from the word pair `v` (words j, j+1). */
  static __device__ __forceinline__ T2 pair(uint32_t v, int u, T2 s, T2 z) {
    const uint32_t h = ((v >> (4 * u)) & 0x000F000Fu) | 0x64006400u;
    const T2 q = __hsub2(*reinterpret_cast<const T2 *>(&h), __halves2half2(__ushort_as_half(0x6400), __ushort_as_half(0x6400)));
    return __hfma2(q, s, z);
  }
  static __device__ __forceinline__ float2 to_f2(T2 w) { return __half22float2(w); }
  static __device__ __forceinline__ float one(int q, const void *s, const void *z, size_t i) {
    const T sv = __ushort_as_half(__ldg(static_cast<const unsigned short *>(s) + i));
    const T zv = __ushort_as_half(__ldg(static_cast<const unsigned short *>(z) + i));
    return __half2float(__hfma(__int2half_rn(q), sv, zv));
  }
};

template <>
struct Q4Deq<VILA_BF16> {
  using T = __nv_bfloat16;
  using T2 = __nv_bfloat162;
  static __device__ __forceinline__ T2 load2(const void *p, size_t i) {
    const unsigned short u = __ldg(static_cast<const unsigned short *>(p) + i);
    const uint32_t b = (uint32_t)u | ((uint32_t)u << 16);
    return *reinterpret_cast<const T2 *>(&b);
  }
  static __device__ __forceinline__ T2 pair(uint32_t v, int u, T2 s, T2 z) {
    const uint32_t h = ((v >> (4 * u)) & 0x000F000Fu) | 0x43004300u;
    const uint32_t m = 0x43004300u;
    // q = (128 + q) − 128, exact; then one fused multiply-add rounded once to bf16.
    const T2 q = __hsub2(*reinterpret_cast<const T2 *>(&h), *reinterpret_cast<const T2 *>(&m));
    return __hfma2(q, s, z);
  }
  static __device__ __forceinline__ float2 to_f2(T2 w) { return __bfloat1622float2(w); }
  static __device__ __forceinline__ float one(int q, const void *s, const void *z, size_t i) {
    const unsigned short su = __ldg(static_cast<const unsigned short *>(s) + i);
    const unsigned short zu = __ldg(static_cast<const unsigned short *>(z) + i);
    const T sv = *reinterpret_cast<const T *>(&su), zv = *reinterpret_cast<const T *>(&zu);
    return __bfloat162float(__hfma(__int2bfloat16_rn(q), sv, zv));
  }
};

template <>
struct Q4Deq<VILA_F32> {
  static __device__ __forceinline__ float one(int q, const void *s, const void *z, size_t i) {
    return fmaf((float)q, __ldg(static_cast<const float *>(s) + i), __ldg(static_cast<const float *>(z) + i));
  }
};

/** Fallback for any group size or alignment: one warp per (row i, output o), scalar decode. */
template <vila_dtype SD>
__global__ void q4_generic_kernel(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, int G,
                                  const void *bias, vila_dtype bias_dtype, int m, int n, int k) {
  const long long idx = (long long)blockIdx.x * 8 + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (idx >= (long long)m * n) return;
  const int i = (int)(idx / n), o = (int)(idx % n);
  float acc = 0.0f;
  for (int p = lane; p < k; p += 32) {
    const int q = q4_at(qw, k, o, p);
    const float w = Q4Deq<SD>::one(q, s, z, (size_t)(p / G) * n + o);
    acc = fmaf(__ldg(x + (size_t)i * k + p), w, acc);
  }
  acc = warp_sum(acc);
  if (lane == 0) out[(size_t)i * n + o] = acc + (bias != nullptr ? load_f(bias, bias_dtype, o) : 0.0f);
}

vila_status q4_generic(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, vila_dtype sd, int G,
                       const void *bias, vila_dtype bias_dtype, int m, int n, int k);

}  // namespace vila
