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
// Versions (llm.c dev/cuda habit: v1 kept, later ones beside it; design notes above each):
//   v1  the kernel above: 4 outputs per block, x through L1 per row (8 B of x per weight byte).
//   v2  x staged once per block in shared memory (swizzled f32), a thread owns one 32-wide K slot
//       of 8 rows (m = 1; 4 rows for m > 1) and reuses its x for all of them, 16 rows per block,
//       all weight loads issued before x is staged; split-K only when x does not fit 44 KB.
//   v3  v2 with 32 rows per block and split-K over gridDim.y chosen for ~2 blocks per SM, the
//       partials summed in split order by the last block to arrive (atomic ticket): deterministic.
//   v4  v3 with weights loaded by ld.global.nc.L1::no_allocate.L2::256B instead of __ldcs.
//   v5  v3 with 4 rows per thread at m = 1 (16 rows per block): more, lighter threads.
// Selection: VILA_Q4_GEMV=1|2|3|4|5, read once at the first GEMV call; anything else (or unset)
// means the default, Q4_GEMV_DEFAULT below: v1, the fastest at the Llama-3B decode shapes in the
// measurements below (build/cuda/check_ops --bench-gemv prints them). v2–v4 also need 16-byte aligned scales and zeros, else
// v1 runs. check_ops checks every version in one process through the test-only C symbol
// vila_q4_gemv_set_version (end of this file).
//
// Figures (NVIDIA H200, device copy 4209 GB/s, weights rotated over copies > 3× L2 so they come
// from DRAM, G = 128, f16 scales; check_ops --bench-gemv, 2026-11-26; plain launches / graph of 20):
//                 4096×4096 m=1     6912×2560 m=1     2560×6912 m=1     14336×4096 m=1    4096² m=4
//   v1            9.24 / 8.11 µs    11.61 / 10.55     10.11 / 8.94      22.96 / 21.72     31.60 / 30.49
//   v2            9.36 / 8.13       11.30 / 10.12     13.27 / 12.04     20.07 / 18.78     35.72 / 34.45
//   v3            10.74 / 9.59      13.84 / 12.69     12.39 / 11.21     22.28 / 21.22     23.29 / 22.05
//   v4            10.91 / 9.71      14.31 / 13.16     12.71 / 11.52     23.45 / 22.35     23.28 / 22.08
//   v5            11.17 / 9.98      11.69 / 10.53     12.76 / 11.61     20.41 / 19.26     23.32 / 22.05
// v1 at 4096² is 968 GB/s, 23% of the copy bandwidth; none of the designs moves the ~9 µs floor at
// these sizes. For scale, on the same card cuBLAS (torch.mv, fp16, weights from DRAM,
// cuda/test/torch_gemv_baseline.py) reads 8.4 MB in 20.5 µs (409 GB/s) and 33.6 MB in 28 µs:
// decode-sized weights are latency-bound, not bandwidth-bound, on an H200. Nsight Compute on v1
// at 4096² (clocks locked at 1.48 GHz): DRAM throughput 16%, L1/TEX 68%, 0.86 waves, 46% achieved
// occupancy (56 registers), 13.9 cycles per issued instruction.

#include <cstdlib>

#include "q4.cuh"

namespace vila {

vila_status q4_gemm(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, vila_dtype sd, int G,
                    const void *bias, vila_dtype bias_dtype, int m, int n, int k);

namespace {

constexpr int QV_WARPS = 4;

template <vila_dtype SD>
struct Deq32;

// The 32 K values of one 128-bit load dequantized with the broadcast scale and scaled zero pair
// (s2, z2) of the 16-bit scale dtype SD, into w[0..31] in natural K order.
template <vila_dtype SD, class Pair>
__device__ __forceinline__ void unpack32(const uint4 &q, Pair s2, Pair z2, float *w) {
  const uint32_t v[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
  for (int p = 0; p < 4; p++)
#pragma unroll
    for (int u = 0; u < 4; u++) {
      const float2 f = Q4Deq<SD>::to_f2(Q4Deq<SD>::pair(v[p], u, s2, z2));
      w[8 * u + 2 * p] = f.x;
      w[8 * u + 2 * p + 1] = f.y;
    }
}

// Dequantize the 32 K values of one 128-bit load into w[0..31] (natural K order).
template <>
struct Deq32<VILA_F16> {
  using Raw = unsigned short;
  static __device__ __forceinline__ Raw load(const void *p, size_t i) { return __ldg(static_cast<const unsigned short *>(p) + i); }
  static __device__ __forceinline__ void run(const uint4 &q, Raw sr, Raw zr, float *w) {
    const __half2 s2 = __half2half2(__ushort_as_half(sr)), z2 = __half2half2(__ushort_as_half(zr));
    unpack32<VILA_F16>(q, s2, z2, w);
  }
};
template <>
struct Deq32<VILA_BF16> {
  using Raw = unsigned short;
  static __device__ __forceinline__ Raw load(const void *p, size_t i) { return __ldg(static_cast<const unsigned short *>(p) + i); }
  static __device__ __forceinline__ void run(const uint4 &q, Raw sr, Raw zr, float *w) {
    const uint32_t sb = (uint32_t)sr * 0x10001u, zb = (uint32_t)zr * 0x10001u;
    const __nv_bfloat162 s2 = *reinterpret_cast<const __nv_bfloat162 *>(&sb), z2 = *reinterpret_cast<const __nv_bfloat162 *>(&zb);
    unpack32<VILA_BF16>(q, s2, z2, w);
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

// ---- v2 to v5: x staged in shared memory, 8 rows per thread (m = 1) --------------------------
//
// v1 re-reads x through L1 once per output row: each lane's 32 f32 of x (128 B) serve one row's
// 16 weight bytes, i.e. 8 bytes of x per weight byte, and the float4 loads of a warp touch 32
// different 128-byte lines (32 L1 wavefronts per instruction). The kernel below (one template,
// three host plans) changes three things:
//  - the block stages its slice of x (m rows, f32, unrounded: the f32 accumulation and NMSE stay
//    as v1's) once in shared memory, with float4 slots XOR-swizzled (phys = f ^ ((f>>3)&7) within
//    each 8-float4 lane slot) so that the 8 lanes of a quarter-warp phase, whose slots are 128 B
//    apart, hit 8 distinct bank groups: conflict-free 128-bit reads;
//  - a thread owns one 32-wide K slot (tile t = slot/2, half slot&1; §2.3 layout) of RBW row
//    blocks (4·RBW rows): it issues the 4·RBW 16-byte weight loads of those rows (plus their
//    packed 4-row scale and zero words, one 8-byte load each) before using any, reads its 32 x
//    values from shared memory once (m = 1) and reuses them for all 4·RBW rows: x traffic per
//    weight byte drops from 8:1 to 1:1 (RBW = 2). For m > 1 (RBW = 1) each dequantized weight
//    (round(q·s + sz) via __hfma2, bit-exact as v1) is used for all m rows of x.
//    Warp coalescing: consecutive lanes own consecutive slots, so each load instruction reads 32
//    full 32-byte sectors and the 4·RBW loads together read every byte of the lines they touch;
//  - the first weights are requested before x is staged, so DRAM latency overlaps the staging.
// Block: 256 threads = WR row groups × (256/WR) K threads; one block owns WR·RBW row blocks over a
// K slice of `slice` slots. Partial sums: full-warp shuffles, then shared memory, in a fixed order.
// Split-K (gridDim.y = S > 1): each block writes its partial (S, m, n) to scratch; the last block
// of a row tile to arrive (an atomic ticket per tile, reset by that block) sums the S partials in
// split order 0..S−1 and adds the bias: one launch, deterministic run to run whatever the arrival
// order. S is forced > 1 when m·slice would not fit 44 KB of shared memory.
//   v2: WR = 2 (16 rows per block at m = 1, 8 at m > 1), split-K only when shared memory forces it,
//       weights read with __ldcs (evict-first streaming).
//   v3: WR = 4 (32 rows per block at m = 1: half v2's x staging per weight byte), split-K chosen
//       so the grid has about 2 blocks per SM (never more splits than K-iterations per thread).
//   v4: v3 with weights read by ld.global.nc.L1::no_allocate.L2::256B (read-only path, no L1
//       allocation, 256-byte L2 prefetch).
//   v5: v3 with 4 rows per thread at m = 1 too (RBW = 1: 16 rows per block, x reused 4×): half
//       the registers and twice the threads (and blocks) for the same bytes, so more warps per SM
//       to overlap the dequantize-and-FMA work (~2.75 instructions per weight) with DRAM latency.
//       For m > 1 it is v3.

enum { LD_CS = 0, LD_NA = 1 };
constexpr int QX_THREADS = 256;
constexpr int QX_SMEM_BYTES = 44 * 1024;  // dynamic x slice; + ≤ 2 KB static stays under 48 KB
constexpr int QX_TICKETS = 16384;
__device__ unsigned int g_q4_tickets[QX_TICKETS];  // zero at load; each split-K tile resets its own

template <int LD>
__device__ __forceinline__ uint4 ld_w(const uint4 *p) {
  if (LD == LD_CS) return __ldcs(p);
  uint4 r;
  asm("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
      : "l"(p));
  return r;
}

/** The scale (or zero) words of 4 consecutive outputs o..o+3 of group row g: one 8- or 16-byte load. */
template <vila_dtype SD>
struct Quad {
  typename Deq32<SD>::Raw v[4];
  __device__ __forceinline__ void load(const void *p, size_t i) {
    if constexpr (SD == VILA_F32) {
      const float4 f = __ldg(reinterpret_cast<const float4 *>(static_cast<const float *>(p) + i));
      v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
    } else {
      const uint2 u = __ldg(reinterpret_cast<const uint2 *>(static_cast<const unsigned short *>(p) + i));
      v[0] = (unsigned short)(u.x & 0xffff), v[1] = (unsigned short)(u.x >> 16);
      v[2] = (unsigned short)(u.y & 0xffff), v[3] = (unsigned short)(u.y >> 16);
    }
  }
  __device__ __forceinline__ void zero() {
#pragma unroll
    for (int r = 0; r < 4; r++) v[r] = 0;
  }
};

template <vila_dtype SD, int MAXM, int RBW, int WR, int LD>
__global__ void __launch_bounds__(QX_THREADS) q4_gemv_x_kernel(float *__restrict__ out, float *__restrict__ partial,
                                                               const float *__restrict__ x, const uint16_t *__restrict__ qw,
                                                               const void *s, const void *z, int G, const void *bias,
                                                               vila_dtype bias_dtype, int m, int n, int k, int slice) {
  constexpr int KT = QX_THREADS / WR, KW = KT / 32, ROWS = 4 * RBW;
  static_assert(KT % 32 == 0, "K threads must be whole warps");
  extern __shared__ float4 xs[];  // [m][slice·8] float4, swizzled within each slot
  __shared__ float red[WR][KW][MAXM][ROWS];
  __shared__ int is_last;
  const int tid = threadIdx.x, wr = tid / KT, kt = tid % KT, kw = kt >> 5, lane = tid & 31;
  const int nrb = n >> 2, slots = k >> 5;
  const int s0 = blockIdx.y * slice, ns = min(slice, slots - s0);
  const int rb0 = (blockIdx.x * WR + wr) * RBW;
  const size_t kq = (size_t)(k >> 3);  // uint4 per row block

  uint4 q[ROWS];
  Quad<SD> sq[RBW], zq[RBW];
  auto load = [&](int sl) {
    const int gs = s0 + sl;
    const size_t g = (size_t)((gs << 5) / G) * n;
#pragma unroll
    for (int b = 0; b < RBW; b++) {
      const int rb = rb0 + b;
      if (rb < nrb) {
        const uint4 *p = reinterpret_cast<const uint4 *>(qw) + rb * kq + (size_t)(gs >> 1) * 8 + (gs & 1);
#pragma unroll
        for (int r = 0; r < 4; r++) q[b * 4 + r] = ld_w<LD>(p + 2 * r);
        sq[b].load(s, g + 4 * rb);
        zq[b].load(z, g + 4 * rb);
      } else {
#pragma unroll
        for (int r = 0; r < 4; r++) q[b * 4 + r] = make_uint4(0, 0, 0, 0);
        sq[b].zero(), zq[b].zero();
      }
    }
  };

  float acc[MAXM][ROWS];
#pragma unroll
  for (int i = 0; i < MAXM; i++)
#pragma unroll
    for (int r = 0; r < ROWS; r++) acc[i][r] = 0.0f;

  if (kt < ns) load(kt);  // weights in flight while x is staged
  {
    const int per = slice * 8;
    const float4 *xg = reinterpret_cast<const float4 *>(x) + (size_t)s0 * 8;
    const int kf = k >> 2;
    for (int i = 0; i < m; i++)
      for (int f = tid; f < ns * 8; f += QX_THREADS) xs[i * per + ((f & ~7) | ((f ^ (f >> 3)) & 7))] = __ldg(xg + (size_t)i * kf + f);
  }
  __syncthreads();

  for (int sl = kt; sl < ns; sl += KT) {
    if (sl != kt) load(sl);
    const int sw = sl & 7;
    if constexpr (MAXM == 1) {
      float xr[32];
      const float4 *xp = xs + sl * 8;
#pragma unroll
      for (int j = 0; j < 8; j++) {
        const float4 v = xp[j ^ sw];
        xr[4 * j] = v.x, xr[4 * j + 1] = v.y, xr[4 * j + 2] = v.z, xr[4 * j + 3] = v.w;
      }
#pragma unroll
      for (int b = 0; b < RBW; b++)
#pragma unroll
        for (int r = 0; r < 4; r++) {
          float w[32];
          Deq32<SD>::run(q[b * 4 + r], sq[b].v[r], zq[b].v[r], w);
          float a = acc[0][b * 4 + r];
#pragma unroll
          for (int e = 0; e < 32; e++) a = fmaf(xr[e], w[e], a);
          acc[0][b * 4 + r] = a;
        }
    } else {
#pragma unroll
      for (int b = 0; b < RBW; b++)
#pragma unroll
        for (int r = 0; r < 4; r++) {
          float w[32];
          Deq32<SD>::run(q[b * 4 + r], sq[b].v[r], zq[b].v[r], w);
#pragma unroll
          for (int i = 0; i < MAXM; i++) {
            if (i < m) {
              const float4 *xp = xs + i * slice * 8 + sl * 8;
              float a = acc[i][b * 4 + r];
#pragma unroll
              for (int j = 0; j < 8; j++) {
                const float4 v = xp[j ^ sw];
                a = fmaf(v.x, w[4 * j], a);
                a = fmaf(v.y, w[4 * j + 1], a);
                a = fmaf(v.z, w[4 * j + 2], a);
                a = fmaf(v.w, w[4 * j + 3], a);
              }
              acc[i][b * 4 + r] = a;
            }
          }
        }
    }
  }

#pragma unroll
  for (int i = 0; i < MAXM; i++)
    if (i < m)
#pragma unroll
      for (int r = 0; r < ROWS; r++) {
        const float a = warp_sum(acc[i][r]);
        if (lane == 0) red[wr][kw][i][r] = a;
      }
  __syncthreads();

  const bool split = gridDim.y > 1;
  for (int idx = tid; idx < WR * MAXM * ROWS; idx += QX_THREADS) {
    const int w_ = idx / (MAXM * ROWS), i = (idx / ROWS) % MAXM, r = idx % ROWS;
    const int o = (blockIdx.x * WR + w_) * ROWS + r;
    if (i >= m || o >= n) continue;
    float sum = 0.0f;
#pragma unroll
    for (int c = 0; c < KW; c++) sum += red[w_][c][i][r];
    if (split)
      partial[((size_t)blockIdx.y * m + i) * n + o] = sum;
    else
      out[(size_t)i * n + o] = sum + (bias != nullptr ? load_f(bias, bias_dtype, o) : 0.0f);
  }
  if (!split) return;

  // split-K: the last block of this row tile sums the partials in split order (deterministic)
  __threadfence();
  __syncthreads();
  if (tid == 0) is_last = atomicAdd(&g_q4_tickets[blockIdx.x], 1u) == gridDim.y - 1;
  __syncthreads();
  if (!is_last) return;
  __threadfence();
  for (int idx = tid; idx < WR * ROWS * MAXM; idx += QX_THREADS) {
    const int i = idx / (WR * ROWS), oo = idx % (WR * ROWS);
    const int o = blockIdx.x * WR * ROWS + oo;
    if (i >= m || o >= n) continue;
    float sum = 0.0f;
    for (int p = 0; p < (int)gridDim.y; p++) sum += __ldcg(partial + ((size_t)p * m + i) * n + o);
    out[(size_t)i * n + o] = sum + (bias != nullptr ? load_f(bias, bias_dtype, o) : 0.0f);
  }
  if (tid == 0) g_q4_tickets[blockIdx.x] = 0;
}

template <vila_dtype SD, int MAXM, int WR, int LD, int RBW1>
vila_status q4_gemv_x_launch(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, int G,
                             const void *bias, vila_dtype bias_dtype, int m, int n, int k, bool fill, bool *done) {
  constexpr int RBW = MAXM == 1 ? RBW1 : 1, KT = QX_THREADS / WR;
  const int nrb = n / 4, slots = k / 32;
  const int tiles = ceil_div(nrb, WR * RBW);
  int S = 1;
  if (fill) {
    const int target = 2 * sm_count();
    if (tiles < target) S = std::min(ceil_div(target, tiles), ceil_div(slots, KT));
  }
  const int max_slice = QX_SMEM_BYTES / (m * 32 * (int)sizeof(float));  // slots of x that fit
  S = std::max(S, ceil_div(slots, max_slice));
  S = std::min(S, slots);
  const int slice = ceil_div(slots, S);
  S = ceil_div(slots, slice);
  if (S > 1 && (tiles > QX_TICKETS || S > 65535)) return VILA_OK;  // *done stays false: v1 runs
  float *partial = nullptr;
  if (S > 1) {
    void *p;
    const vila_status st = scratch(SCRATCH_SPLITK, (size_t)S * m * n * sizeof(float), &p);
    if (st != VILA_OK) return st;
    partial = static_cast<float *>(p);
  }
  const size_t smem = (size_t)m * slice * 32 * sizeof(float);
  q4_gemv_x_kernel<SD, MAXM, RBW, WR, LD><<<dim3(tiles, S), QX_THREADS, smem, stream()>>>(out, partial, x, qw, s, z, G, bias,
                                                                                          bias_dtype, m, n, k, slice);
  *done = true;
  return launch_status("matmul_q4 (gemv v2-5)");
}

template <vila_dtype SD, int WR, int LD, int RBW1 = 2>
vila_status q4_gemv_x(float *out, const float *x, const uint16_t *qw, const void *s, const void *z, int G, const void *bias,
                      vila_dtype bias_dtype, int m, int n, int k, bool fill, bool *done) {
  if (m == 1) return q4_gemv_x_launch<SD, 1, WR, LD, RBW1>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k, fill, done);
  if (m <= 4) return q4_gemv_x_launch<SD, 4, WR, LD, 1>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k, fill, done);
  return q4_gemv_x_launch<SD, 8, WR, LD, 1>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k, fill, done);
}

template <vila_dtype SD>
vila_status q4_gemv_version(int v, float *out, const float *x, const uint16_t *qw, const void *s, const void *z, int G,
                            const void *bias, vila_dtype bias_dtype, int m, int n, int k) {
  bool done = false;
  vila_status st = VILA_OK;
  if (v == 2) st = q4_gemv_x<SD, 2, LD_CS>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k, false, &done);
  else if (v == 3) st = q4_gemv_x<SD, 4, LD_CS>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k, true, &done);
  else if (v == 4) st = q4_gemv_x<SD, 4, LD_NA>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k, true, &done);
  else if (v == 5) st = q4_gemv_x<SD, 4, LD_CS, 1>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k, true, &done);
  if (st != VILA_OK || done) return st;
  return q4_gemv<SD>(out, x, qw, s, z, G, bias, bias_dtype, m, n, k);
}

constexpr int Q4_GEMV_VERSIONS = 5;
constexpr int Q4_GEMV_DEFAULT = 1;
int g_gemv_version = 0;  // 0: VILA_Q4_GEMV not read yet

int gemv_version() {
  if (g_gemv_version == 0) {
    const char *e = getenv("VILA_Q4_GEMV");
    const int v = e != nullptr ? atoi(e) : 0;
    g_gemv_version = v >= 1 && v <= Q4_GEMV_VERSIONS ? v : Q4_GEMV_DEFAULT;
  }
  return g_gemv_version;
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
    // v2+ read 4 outputs' scales and zeros with one 8- or 16-byte load: they need aligned arrays
    const int v = aligned16(scales) && aligned16(scaled_zeros) ? gemv_version() : 1;
    switch (scale_dtype) {
      case VILA_F16: return q4_gemv_version<VILA_F16>(v, out, x, qweight, scales, scaled_zeros, group_size, bias, bias_dtype, m, n, k);
      case VILA_BF16: return q4_gemv_version<VILA_BF16>(v, out, x, qweight, scales, scaled_zeros, group_size, bias, bias_dtype, m, n, k);
      default: return q4_gemv_version<VILA_F32>(v, out, x, qweight, scales, scaled_zeros, group_size, bias, bias_dtype, m, n, k);
    }
  }
  if (!fast) return q4_generic(out, x, qweight, scales, scaled_zeros, scale_dtype, group_size, bias, bias_dtype, m, n, k);
  return q4_gemm(out, x, qweight, scales, scaled_zeros, scale_dtype, group_size, bias, bias_dtype, m, n, k);
}

/**
 * Test-only (cuda/test/check_ops.cu; not in vila_cuda.h): select the int4 GEMV version for the
 * following calls, as VILA_Q4_GEMV would. v = 0 only reads. Returns the version in force after the
 * call (the default or VILA_Q4_GEMV when never set), or -1 for a v outside 0..count.
 */
extern "C" int vila_q4_gemv_set_version(int v) {
  if (v < 0 || v > Q4_GEMV_VERSIONS) return -1;
  if (v > 0) g_gemv_version = v;
  return gemv_version();
}
/** Test-only: how many int4 GEMV versions there are (1..count). */
extern "C" int vila_q4_gemv_versions(void) { return Q4_GEMV_VERSIONS; }
