// attention.cu: vila_attention_f32, scaled dot-product attention over the KV cache with grouped
// KV heads, causal (row r at position q_start + r sees keys [0, q_start + r]) or not (all
// kv_len keys). Reference: src/ref/attention.ts (scores, max-subtracted softmax and the
// weighted sum in float64). Everything here is f32 with expf: NMSE ~1e-13.
//
// Two kernels:
// - split-KV (flash-decoding; decode, small m, and any head_dim): grid (splits, heads, m), each
//   block scores a chunk of 128 keys (one warp per key, lanes across head_dim: coalesced K
//   reads), takes the chunk's max and sum of exponentials, and accumulates its Σ p·v (threads
//   across head_dim: coalesced V reads). Chunks are merged by attn_combine with the usual
//   rescaling by exp(m_chunk − m). One chunk: the block writes out directly.
// - tiled prefill (m > 4, head_dim ∈ {64, 72, 80, 96, 128}): grid (⌈m/32⌉, heads), 128 threads,
//   32 query rows × 32-key tiles in shared memory; S = Q·Kᵀ (8 scores per thread), online
//   softmax per row (4 lanes per row, shuffles), O = O·α + P·V with each thread owning one row
//   and head_dim/4 columns in registers. K/V tiles are read once per 32 query rows.
//
// Figures: not measured yet (written without a GPU); build/cuda/check_ops prints them (GB/s vs
// the device copy, TFLOP/s, µs) and they belong here, per version, once run.

#include <math.h>

#include "common.cuh"

namespace vila {
namespace {

constexpr int CH = 128;  // keys per split chunk
constexpr int SPLIT_THREADS = 128;

__global__ void __launch_bounds__(SPLIT_THREADS)
    attn_split_kernel(float *out, float *ws, const float *q, const float *k, const float *v, int m, int kv_len, int q_start,
                      int heads, int group, int D, int causal, float scale, int nsplit) {
  extern __shared__ float sh[];
  float *qs = sh;             // D
  float *sc = sh + D;         // CH
  float *red = sc + CH;       // 32
  const int split = blockIdx.x, h = blockIdx.y, r = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
  const int width = heads * D, kvw = (heads / group) * D;
  const int kvo = (h / group) * D;
  const int visible = causal ? min(kv_len, q_start + r + 1) : kv_len;
  const int t0 = split * CH, t1 = min(visible, t0 + CH);
  const float *qr = q + (size_t)r * width + (size_t)h * D;
  for (int d = threadIdx.x; d < D; d += blockDim.x) qs[d] = qr[d];
  __syncthreads();

  for (int t = t0 + warp; t < t1; t += nw) {
    const float *kr = k + (size_t)t * kvw + kvo;
    float s = 0.0f;
    for (int d = lane; d < D; d += 32) s = fmaf(qs[d], kr[d], s);
    s = warp_sum(s);
    if (lane == 0) sc[t - t0] = s * scale;
  }
  __syncthreads();
  const int cnt = t1 > t0 ? t1 - t0 : 0;
  float mx = -INFINITY;
  for (int i = threadIdx.x; i < cnt; i += blockDim.x) mx = fmaxf(mx, sc[i]);
  mx = warp_max(mx);
  if (lane == 0) red[warp] = mx;
  __syncthreads();
  mx = -INFINITY;
  for (int i = 0; i < nw; i++) mx = fmaxf(mx, red[i]);
  __syncthreads();
  float sum = 0.0f;
  for (int i = threadIdx.x; i < cnt; i += blockDim.x) {
    const float e = expf(sc[i] - mx);
    sc[i] = e;
    sum += e;
  }
  sum = warp_sum(sum);
  if (lane == 0) red[warp] = sum;
  __syncthreads();
  sum = 0.0f;
  for (int i = 0; i < nw; i++) sum += red[i];

  const size_t slot = ((size_t)r * heads + h) * nsplit + split;
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = 0.0f;
    for (int i = 0; i < cnt; i++) acc = fmaf(sc[i], v[(size_t)(t0 + i) * kvw + kvo + d], acc);
    if (nsplit == 1) out[(size_t)r * width + (size_t)h * D + d] = sum > 0.0f ? acc / sum : 0.0f;
    else ws[slot * (D + 2) + 2 + d] = acc;
  }
  if (nsplit > 1 && threadIdx.x == 0) {
    ws[slot * (D + 2)] = mx;
    ws[slot * (D + 2) + 1] = sum;
  }
}

__global__ void attn_combine_kernel(float *out, const float *ws, int heads, int D, int nsplit) {
  const int h = blockIdx.x, r = blockIdx.y;
  const size_t base = ((size_t)r * heads + h) * nsplit;
  float M = -INFINITY;
  for (int s = 0; s < nsplit; s++) M = fmaxf(M, ws[(base + s) * (D + 2)]);
  float L = 0.0f;
  for (int s = 0; s < nsplit; s++) {
    const float ms = ws[(base + s) * (D + 2)];
    if (ms != -INFINITY) L += ws[(base + s) * (D + 2) + 1] * expf(ms - M);
  }
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = 0.0f;
    for (int s = 0; s < nsplit; s++) {
      const float ms = ws[(base + s) * (D + 2)];
      if (ms != -INFINITY) acc = fmaf(ws[(base + s) * (D + 2) + 2 + d], expf(ms - M), acc);
    }
    out[(size_t)r * heads * D + (size_t)h * D + d] = L > 0.0f ? acc / L : 0.0f;
  }
}

// ---- tiled prefill ----------------------------------------------------------------------------

constexpr int PQ = 32, PK = 32, PT = 128;

template <int D>
constexpr size_t prefill_smem() {
  return sizeof(float) * (size_t)(PQ * (D + 1) + PK * (D + 1) + PK * D + PQ * (PK + 1));
}

template <int D>
__global__ void __launch_bounds__(PT) attn_prefill_kernel(float *out, const float *q, const float *k, const float *v, int m,
                                                          int kv_len, int q_start, int heads, int group, int causal,
                                                          float scale) {
  extern __shared__ float sh[];
  float *Qs = sh;                    // [PQ][D+1]
  float *Ks = Qs + PQ * (D + 1);     // [PK][D+1]
  float *Vs = Ks + PK * (D + 1);     // [PK][D]
  float *Ps = Vs + PK * D;           // [PQ][PK+1]
  constexpr int D4 = (D + 3) / 4;
  const int q0 = blockIdx.x * PQ, h = blockIdx.y;
  const int t = threadIdx.x, row = t >> 2, sub = t & 3;
  const int width = heads * D, kvw = (heads / group) * D, kvo = (h / group) * D;

  for (int i = t; i < PQ * D; i += PT) {
    const int rr = i / D, d = i - rr * D;
    Qs[rr * (D + 1) + d] = (q0 + rr < m) ? q[(size_t)(q0 + rr) * width + (size_t)h * D + d] : 0.0f;
  }
  const int qi = q0 + row;
  const int pos = q_start + qi;  // causal: sees keys ≤ pos
  const int last_row = min(q0 + PQ, m) - 1;
  const int kv_end = causal ? min(kv_len, q_start + last_row + 1) : kv_len;

  float o[D4];
#pragma unroll
  for (int j = 0; j < D4; j++) o[j] = 0.0f;
  float mrow = -INFINITY, lrow = 0.0f;

  for (int kt = 0; kt < kv_end; kt += PK) {
    __syncthreads();  // previous tile fully used (and Qs written on the first pass)
    for (int i = t; i < PK * D; i += PT) {
      const int kk = i / D, d = i - kk * D;
      const bool in = kt + kk < kv_end;
      Ks[kk * (D + 1) + d] = in ? k[(size_t)(kt + kk) * kvw + kvo + d] : 0.0f;
      Vs[kk * D + d] = in ? v[(size_t)(kt + kk) * kvw + kvo + d] : 0.0f;
    }
    __syncthreads();
    float s[8];
#pragma unroll
    for (int j = 0; j < 8; j++) s[j] = 0.0f;
    const float *qrow = Qs + row * (D + 1);
#pragma unroll 4
    for (int d = 0; d < D; d++) {
      const float qv = qrow[d];
#pragma unroll
      for (int j = 0; j < 8; j++) s[j] = fmaf(qv, Ks[(sub + 4 * j) * (D + 1) + d], s[j]);
    }
    float tmax = -INFINITY;
#pragma unroll
    for (int j = 0; j < 8; j++) {
      const int key = kt + sub + 4 * j;
      const bool ok = key < kv_end && (!causal || key <= pos);
      s[j] = ok ? s[j] * scale : -INFINITY;
      tmax = fmaxf(tmax, s[j]);
    }
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 2));
    const float mnew = fmaxf(mrow, tmax);
    const float alpha = (mnew == -INFINITY || mrow == -INFINITY) ? (mrow == -INFINITY ? 0.0f : 1.0f) : expf(mrow - mnew);
    float psum = 0.0f;
#pragma unroll
    for (int j = 0; j < 8; j++) {
      const float p = s[j] == -INFINITY ? 0.0f : expf(s[j] - mnew);
      Ps[row * (PK + 1) + sub + 4 * j] = p;
      psum += p;
    }
    psum += __shfl_xor_sync(0xffffffffu, psum, 1);
    psum += __shfl_xor_sync(0xffffffffu, psum, 2);
    lrow = lrow * alpha + psum;
    mrow = mnew;
    __syncwarp();  // a row's 4 lanes are in one warp: its P values are visible after this
#pragma unroll
    for (int j = 0; j < D4; j++) o[j] *= alpha;
    const float *prow = Ps + row * (PK + 1);
#pragma unroll 4
    for (int kk = 0; kk < PK; kk++) {
      const float p = prow[kk];
      const float *vr = Vs + kk * D;
#pragma unroll
      for (int j = 0; j < D4; j++) {
        const int d = sub + 4 * j;
        if (D % 4 == 0 || d < D) o[j] = fmaf(p, vr[d], o[j]);
      }
    }
  }
  if (qi < m) {
    float *orow = out + (size_t)qi * width + (size_t)h * D;
    const float inv = lrow > 0.0f ? 1.0f / lrow : 0.0f;
#pragma unroll
    for (int j = 0; j < D4; j++) {
      const int d = sub + 4 * j;
      if (D % 4 == 0 || d < D) orow[d] = o[j] * inv;
    }
  }
}

template <int D>
vila_status prefill(float *out, const float *q, const float *k, const float *v, int m, int kv_len, int q_start, int heads, int group,
                    int causal, float scale) {
  constexpr size_t smem = prefill_smem<D>();
  static bool configured = false;
  if (!configured) {
    vila_status st = cuda_status(cudaFuncSetAttribute(attn_prefill_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
                                 "attention: cudaFuncSetAttribute");
    if (st != VILA_OK) return st;
    configured = true;
  }
  const dim3 grid((unsigned)ceil_div(m, PQ), (unsigned)heads);
  attn_prefill_kernel<D><<<grid, PT, smem, stream()>>>(out, q, k, v, m, kv_len, q_start, heads, group, causal, scale);
  return launch_status("attention (prefill)");
}

vila_status split(float *out, const float *q, const float *k, const float *v, int m, int kv_len, int q_start, int heads, int group,
                  int D, int causal, float scale) {
  const int nsplit = kv_len > 0 ? ceil_div(kv_len, CH) : 1;
  if (m > 65535 || heads > 65535) return fail(VILA_ERR_ARG, "attention: m %d or heads %d too large", m, heads);
  float *ws = nullptr;
  if (nsplit > 1) {
    void *p = nullptr;
    vila_status st = scratch(SCRATCH_ATTN, (size_t)m * heads * nsplit * (D + 2) * sizeof(float), &p);
    if (st != VILA_OK) return st;
    ws = static_cast<float *>(p);
  }
  const size_t smem = sizeof(float) * ((size_t)D + CH + 32);
  if (smem > 48 * 1024) return fail(VILA_ERR_ARG, "attention: head_dim %d too large", D);
  const dim3 grid((unsigned)nsplit, (unsigned)heads, (unsigned)m);
  attn_split_kernel<<<grid, SPLIT_THREADS, smem, stream()>>>(out, ws, q, k, v, m, kv_len, q_start, heads, group, D, causal, scale,
                                                            nsplit);
  vila_status st = launch_status("attention (split)");
  if (st != VILA_OK || nsplit == 1) return st;
  const dim3 g2((unsigned)heads, (unsigned)m);
  attn_combine_kernel<<<g2, D < 128 ? 128 : 256, 0, stream()>>>(out, ws, heads, D, nsplit);
  return launch_status("attention (combine)");
}

}  // namespace
}  // namespace vila

using namespace vila;

extern "C" vila_status vila_attention_f32(float *out, const float *q, const float *k, const float *v, int m, int kv_len, int q_start,
                                          int heads, int kv_heads, int head_dim, int causal, float scale) {
  if (m < 0 || kv_len < 0 || q_start < 0 || heads <= 0 || kv_heads <= 0 || head_dim <= 0 || heads % kv_heads != 0)
    return fail(VILA_ERR_ARG, "attention: m %d, kv_len %d, q_start %d, heads %d, kv_heads %d, head_dim %d", m, kv_len, q_start, heads,
                kv_heads, head_dim);
  if (causal && (long long)q_start + m > kv_len)
    return fail(VILA_ERR_ARG, "attention: causal queries at %d..%d but only %d keys", q_start, q_start + m - 1, kv_len);
  if (m == 0) return VILA_OK;
  const int group = heads / kv_heads;
  if (m > 4 && kv_len > 0) {
    switch (head_dim) {
      case 64: return prefill<64>(out, q, k, v, m, kv_len, q_start, heads, group, causal, scale);
      case 72: return prefill<72>(out, q, k, v, m, kv_len, q_start, heads, group, causal, scale);
      case 80: return prefill<80>(out, q, k, v, m, kv_len, q_start, heads, group, causal, scale);
      case 96: return prefill<96>(out, q, k, v, m, kv_len, q_start, heads, group, causal, scale);
      case 128: return prefill<128>(out, q, k, v, m, kv_len, q_start, heads, group, causal, scale);
      default: break;
    }
  }
  return split(out, q, k, v, m, kv_len, q_start, heads, group, head_dim, causal != 0, scale);
}
