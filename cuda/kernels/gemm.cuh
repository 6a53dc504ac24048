// gemm.cuh: the two tiled GEMM kernels shared by matmul.cu (dense weights) and
// matmul_q4_gemm.cu (int4 TinyChat v2 weights): out (m,n) = x (m,k) · W (n,k)ᵀ + bias.
// The weight side is a "B loader" policy that brings a (BN × BK) tile of W into shared memory,
// so the same main loop serves f16/bf16 weights and int4 dequantized on the fly.
//
// gemm_tc: tensor cores, mma.sync m16n8k16 with f16 or bf16 inputs and f32 accumulation.
//   CTA tile 128×128×32 (64×128×32 when 128-row tiles would leave SMs idle), 8 warps (2 along
//   m × 4 along n), warp tile 64×32 or 32×32; K split across CTAs (partials reduced in order by
//   a second kernel) while the grid is still smaller than the GPU.
//   x (f32) is converted to T while it is staged to shared memory; with SPLIT it is stored as
//   hi = T(x) and lo = T(x − hi) and both are multiplied (two mma per tile), which brings bf16
//   activations from ~1e-5 NMSE to about the f32 level (the weight is exact in T already).
//   Global loads of tile t+1 are issued into registers before the mma of tile t.
//   Shared rows are padded to BK+8 elements (80 bytes): the 32-bit fragment loads of a warp
//   then fall on 32 distinct banks.
// gemm_simt: plain f32 FMA, CTA tile 64×64×16, 256 threads with 4×4 outputs each, for f32
//   weights and f32 int4 scales (no rounding of anything: NMSE ~1e-13).
#pragma once

#include "common.cuh"

namespace vila {

// ---- tensor-core GEMM ----------------------------------------------------------------------

template <class T>
struct MmaType;
template <>
struct MmaType<__half> {
  static __device__ __forceinline__ __half from_f(float v) { return __float2half_rn(v); }
  static __device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
  static __device__ __forceinline__ void mma(float *c, const uint32_t *a, const uint32_t *b) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};
template <>
struct MmaType<__nv_bfloat16> {
  static __device__ __forceinline__ __nv_bfloat16 from_f(float v) { return __float2bfloat16_rn(v); }
  static __device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
  static __device__ __forceinline__ void mma(float *c, const uint32_t *a, const uint32_t *b) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};

constexpr int TC_BN = 128, TC_BK = 32, TC_LD = TC_BK + 8, TC_THREADS = 256;

/**
 * The activation tile: BM rows × 32 columns of x (f32) → T in shared memory (BM = 64 or 128).
 * AVEC: k % 4 == 0 and x 16-byte aligned, so float4 loads (BM/32 per thread).
 */
template <class T, bool AVEC, bool SPLIT, int BM>
struct ATile {
  static constexpr int E = BM / 8;  // f32 values per thread
  float v[E];
  __device__ __forceinline__ void load(const float *x, int m, int k, int row0, int k0) {
    const int t = threadIdx.x;
    if (AVEC) {
#pragma unroll
      for (int i = 0; i < E / 4; i++) {
        const int idx = t + TC_THREADS * i;  // float4 index in the BM×8 tile
        const int r = idx >> 3, c = (idx & 7) * 4;
        const int gr = row0 + r, gc = k0 + c;
        float4 f = make_float4(0.f, 0.f, 0.f, 0.f);
        if (gr < m && gc < k) f = __ldg(reinterpret_cast<const float4 *>(x + (size_t)gr * k + gc));
        v[4 * i] = f.x; v[4 * i + 1] = f.y; v[4 * i + 2] = f.z; v[4 * i + 3] = f.w;
      }
    } else {
#pragma unroll
      for (int i = 0; i < E; i++) {
        const int idx = t + TC_THREADS * i;
        const int r = idx >> 5, c = idx & 31;
        const int gr = row0 + r, gc = k0 + c;
        v[i] = (gr < m && gc < k) ? __ldg(x + (size_t)gr * k + gc) : 0.0f;
      }
    }
  }
  __device__ __forceinline__ void store(T *hi, T *lo) const {
    const int t = threadIdx.x;
#pragma unroll
    for (int i = 0; i < E; i++) {
      int r, c;
      if (AVEC) {
        const int idx = t + TC_THREADS * (i >> 2);
        r = idx >> 3;
        c = (idx & 7) * 4 + (i & 3);
      } else {
        const int idx = t + TC_THREADS * i;
        r = idx >> 5;
        c = idx & 31;
      }
      const T h = MmaType<T>::from_f(v[i]);
      hi[r * TC_LD + c] = h;
      if (SPLIT) lo[r * TC_LD + c] = MmaType<T>::from_f(v[i] - MmaType<T>::to_f(h));
    }
  }
};

/** Dense f16/bf16 weight (n,k) of element type T. BVEC: k % 8 == 0 and w 16-byte aligned. */
template <class T, bool BVEC>
struct DenseB {
  const T *w;
  int n, k;
  uint4 v[2];
  unsigned short s[16];
  __device__ __forceinline__ void load(int col0, int k0) {
    const int t = threadIdx.x;
    if (BVEC) {
#pragma unroll
      for (int i = 0; i < 2; i++) {
        const int idx = t + TC_THREADS * i;  // uint4 index in the 128×4 tile
        const int r = idx >> 2, c = (idx & 3) * 8;
        const int gr = col0 + r, gc = k0 + c;
        v[i] = make_uint4(0, 0, 0, 0);
        if (gr < n && gc < k) v[i] = __ldg(reinterpret_cast<const uint4 *>(w + (size_t)gr * k + gc));
      }
    } else {
      const unsigned short *wu = reinterpret_cast<const unsigned short *>(w);
#pragma unroll
      for (int i = 0; i < 16; i++) {
        const int idx = t + TC_THREADS * i;
        const int r = idx >> 5, c = idx & 31;
        const int gr = col0 + r, gc = k0 + c;
        s[i] = (gr < n && gc < k) ? __ldg(wu + (size_t)gr * k + gc) : (unsigned short)0;
      }
    }
  }
  __device__ __forceinline__ void store(T *bs) const {
    const int t = threadIdx.x;
    if (BVEC) {
#pragma unroll
      for (int i = 0; i < 2; i++) {
        const int idx = t + TC_THREADS * i;
        const int r = idx >> 2, c = (idx & 3) * 8;
        *reinterpret_cast<uint4 *>(bs + r * TC_LD + c) = v[i];  // 80-byte rows: 16-byte aligned
      }
    } else {
      unsigned short *bu = reinterpret_cast<unsigned short *>(bs);
#pragma unroll
      for (int i = 0; i < 16; i++) {
        const int idx = t + TC_THREADS * i;
        bu[(idx >> 5) * TC_LD + (idx & 31)] = s[i];
      }
    }
  }
};

/**
 * BM×128 output tile per CTA, 8 warps as 2 (m) × 4 (n), warp tile (BM/2)×32. gridDim.z > 1
 * splits K: CTA z runs K tiles [z·kts, (z+1)·kts) and writes its partial sums to
 * ws[z] (m,n) without bias; gemm_splitk_reduce then adds the slices in order (deterministic).
 */
template <class T, class BLoader, bool AVEC, bool SPLIT, int BM>
__global__ void __launch_bounds__(TC_THREADS) gemm_tc_kernel(float *__restrict__ out, float *__restrict__ ws, const float *__restrict__ x,
                                                             BLoader bl, const void *bias, vila_dtype bias_dtype, int m, int n, int k,
                                                             int kts) {
  constexpr int MI = BM / 32;  // m16 tiles per warp
  __shared__ __align__(16) T As[BM * TC_LD];
  __shared__ __align__(16) T Bs[TC_BN * TC_LD];
  __shared__ __align__(16) T Al[SPLIT ? BM * TC_LD : 8];

  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * TC_BN;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int wm = (warp >> 2) * (BM / 2), wn = (warp & 3) * 32;
  const int g = lane >> 2, tq = lane & 3;

  float acc[MI][4][4];
#pragma unroll
  for (int i = 0; i < MI; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;

  ATile<T, AVEC, SPLIT, BM> at;
  const int ktiles = (k + TC_BK - 1) / TC_BK;
  const int kt0 = blockIdx.z * kts, kt1 = min(ktiles, kt0 + kts);
  if (kt0 < kt1) {
    at.load(x, m, k, row0, kt0 * TC_BK);
    bl.load(col0, kt0 * TC_BK);
  }
  for (int kt = kt0; kt < kt1; kt++) {
    __syncthreads();
    at.store(As, Al);
    bl.store(Bs);
    __syncthreads();
    if (kt + 1 < kt1) {
      at.load(x, m, k, row0, (kt + 1) * TC_BK);
      bl.load(col0, (kt + 1) * TC_BK);
    }
#pragma unroll
    for (int kk = 0; kk < TC_BK; kk += 16) {
      uint32_t bf[4][2];
#pragma unroll
      for (int j = 0; j < 4; j++) {
        const T *bp = Bs + (wn + j * 8 + g) * TC_LD + kk + 2 * tq;
        bf[j][0] = *reinterpret_cast<const uint32_t *>(bp);
        bf[j][1] = *reinterpret_cast<const uint32_t *>(bp + 8);
      }
#pragma unroll
      for (int i = 0; i < MI; i++) {
        uint32_t af[4];
        const T *ap = As + (wm + i * 16 + g) * TC_LD + kk + 2 * tq;
        af[0] = *reinterpret_cast<const uint32_t *>(ap);
        af[1] = *reinterpret_cast<const uint32_t *>(ap + 8 * TC_LD);
        af[2] = *reinterpret_cast<const uint32_t *>(ap + 8);
        af[3] = *reinterpret_cast<const uint32_t *>(ap + 8 * TC_LD + 8);
#pragma unroll
        for (int j = 0; j < 4; j++) MmaType<T>::mma(acc[i][j], af, bf[j]);
        if (SPLIT) {
          const T *lp = Al + (wm + i * 16 + g) * TC_LD + kk + 2 * tq;
          af[0] = *reinterpret_cast<const uint32_t *>(lp);
          af[1] = *reinterpret_cast<const uint32_t *>(lp + 8 * TC_LD);
          af[2] = *reinterpret_cast<const uint32_t *>(lp + 8);
          af[3] = *reinterpret_cast<const uint32_t *>(lp + 8 * TC_LD + 8);
#pragma unroll
          for (int j = 0; j < 4; j++) MmaType<T>::mma(acc[i][j], af, bf[j]);
        }
      }
    }
  }

  const bool partial = gridDim.z > 1;
  float *dst = partial ? ws + (size_t)blockIdx.z * m * n : out;
#pragma unroll
  for (int i = 0; i < MI; i++) {
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int c = col0 + wn + j * 8 + 2 * tq;
#pragma unroll
      for (int h = 0; h < 2; h++) {
        const int r = row0 + wm + i * 16 + g + 8 * h;
        if (r >= m) continue;
#pragma unroll
        for (int e = 0; e < 2; e++) {
          const int cc = c + e;
          if (cc < n) {
            const float b = (!partial && bias != nullptr) ? load_f(bias, bias_dtype, cc) : 0.0f;
            dst[(size_t)r * n + cc] = acc[i][j][2 * h + e] + b;
          }
        }
      }
    }
  }
}

// internal linkage: this header is compiled into two files
static __global__ void gemm_splitk_reduce(float *out, const float *ws, int splits, const void *bias, vila_dtype bias_dtype, int m, int n) {
  const size_t total = (size_t)m * n;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
    float s = 0.0f;
    for (int z = 0; z < splits; z++) s += ws[(size_t)z * total + i];
    out[i] = s + (bias != nullptr ? load_f(bias, bias_dtype, (size_t)(i % n)) : 0.0f);
  }
}

template <class T, class BLoader, bool SPLIT, int BM>
vila_status gemm_tc_launch(float *out, const float *x, const BLoader &bl, const void *bias, vila_dtype bias_dtype, int m, int n, int k,
                           const char *what) {
  const int tiles_n = ceil_div(n, TC_BN), tiles_m = ceil_div(m, BM);
  const int ktiles = ceil_div(k, TC_BK);
  // split K while the grid is smaller than the GPU and each slice keeps ≥ 8 K tiles (256 values)
  int splits = 1;
  const long long ctas = (long long)tiles_n * tiles_m;
  while (splits < 8 && ctas * splits < sm_count() && ktiles / (splits * 2) >= 8) splits *= 2;
  const int kts = ceil_div(ktiles, splits);
  splits = ceil_div(ktiles, kts);
  float *ws = nullptr;
  if (splits > 1) {
    void *p = nullptr;
    vila_status st = scratch(SCRATCH_SPLITK, (size_t)splits * m * n * sizeof(float), &p);
    if (st != VILA_OK) return st;
    ws = static_cast<float *>(p);
  }
  if (tiles_m > 65535 || splits > 65535) return fail(VILA_ERR_ARG, "%s: m = %d is too large", what, m);
  const dim3 grid((unsigned)tiles_n, (unsigned)tiles_m, (unsigned)splits);
  if (k % 4 == 0 && aligned16(x))
    gemm_tc_kernel<T, BLoader, true, SPLIT, BM><<<grid, TC_THREADS, 0, stream()>>>(out, ws, x, bl, bias, bias_dtype, m, n, k, kts);
  else
    gemm_tc_kernel<T, BLoader, false, SPLIT, BM><<<grid, TC_THREADS, 0, stream()>>>(out, ws, x, bl, bias, bias_dtype, m, n, k, kts);
  vila_status st = launch_status(what);
  if (st != VILA_OK || splits == 1) return st;
  const size_t total = (size_t)m * n;
  const int blocks = (int)std::min<size_t>((total + 255) / 256, 65536);
  gemm_splitk_reduce<<<blocks, 256, 0, stream()>>>(out, ws, splits, bias, bias_dtype, m, n);
  return launch_status(what);
}

/** Tensor-core GEMM: 128-row CTA tiles when they fill the GPU, else 64-row tiles (plus split-K). */
template <class T, class BLoader, bool SPLIT>
vila_status gemm_tc(float *out, const float *x, const BLoader &bl, const void *bias, vila_dtype bias_dtype, int m, int n, int k,
                    const char *what) {
  if ((long long)ceil_div(n, TC_BN) * ceil_div(m, 128) >= sm_count())
    return gemm_tc_launch<T, BLoader, SPLIT, 128>(out, x, bl, bias, bias_dtype, m, n, k, what);
  return gemm_tc_launch<T, BLoader, SPLIT, 64>(out, x, bl, bias, bias_dtype, m, n, k, what);
}

// ---- SIMT f32 GEMM -------------------------------------------------------------------------

constexpr int SG_BM = 64, SG_BN = 64, SG_BK = 16, SG_THREADS = 256;

/** A SIMT B loader returns W[col][kk] as f32 (0 outside the matrix). */
template <class BLoader>
__global__ void __launch_bounds__(SG_THREADS) gemm_simt_kernel(float *__restrict__ out, const float *__restrict__ x, BLoader bl,
                                                               const void *bias, vila_dtype bias_dtype, int m, int n, int k) {
  __shared__ float As[SG_BK][SG_BM + 4];
  __shared__ float Bs[SG_BK][SG_BN + 4];
  const int row0 = blockIdx.y * SG_BM, col0 = blockIdx.x * SG_BN;
  const int t = threadIdx.x, tx = t & 15, ty = t >> 4;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < k; k0 += SG_BK) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const int idx = t + SG_THREADS * i;
      const int r = idx >> 4, c = idx & 15;
      const int gr = row0 + r, gc = k0 + c;
      As[c][r] = (gr < m && gc < k) ? __ldg(x + (size_t)gr * k + gc) : 0.0f;
      const int gn = col0 + r;
      Bs[c][r] = (gn < n && gc < k) ? bl(gn, gc) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < SG_BK; kk++) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; i++) a[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int r = row0 + ty + 16 * i;
    if (r >= m) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int c = col0 + tx + 16 * j;
      if (c < n) out[(size_t)r * n + c] = acc[i][j] + (bias != nullptr ? load_f(bias, bias_dtype, c) : 0.0f);
    }
  }
}

template <class BLoader>
vila_status gemm_simt(float *out, const float *x, const BLoader &bl, const void *bias, vila_dtype bias_dtype, int m, int n, int k,
                      const char *what) {
  const dim3 grid((unsigned)ceil_div(n, SG_BN), (unsigned)ceil_div(m, SG_BM));
  if (grid.y > 65535) return fail(VILA_ERR_ARG, "%s: m = %d is too large", what, m);
  gemm_simt_kernel<BLoader><<<grid, SG_THREADS, 0, stream()>>>(out, x, bl, bias, bias_dtype, m, n, k);
  return launch_status(what);
}

}  // namespace vila
