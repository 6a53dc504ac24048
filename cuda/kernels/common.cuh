// common.cuh: helpers shared by the kernel files (internal; not part of the C interface).
// Dtype loads, the library stream, error plumbing, a grow-only scratch buffer.
#pragma once

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>
#include <stddef.h>
#include <algorithm>
#include <type_traits>

#include "../include/vila_cuda.h"

namespace vila {

// ---- stream and errors (memory.cu) ----------------------------------------------------------

cudaStream_t stream();
/** Record a message as this thread's last error and return `st`. */
vila_status fail(vila_status st, const char *fmt, ...);
/** VILA_OK when `e` is cudaSuccess, else VILA_ERR_CUDA with the message (naming `what`). */
vila_status cuda_status(cudaError_t e, const char *what);
/** After a launch: cudaGetLastError() turned into a status. */
vila_status launch_status(const char *what);
/**
 * A grow-only device scratch buffer, one per `slot` (attention partials, im2col, ...). Growing
 * frees the old buffer (cudaFree synchronizes the device, so no queued kernel still reads it).
 * Not usable while a stream is being captured into a CUDA graph unless already large enough.
 */
vila_status scratch(int slot, size_t bytes, void **ptr);
enum { SCRATCH_ATTN = 0, SCRATCH_IM2COL = 1, SCRATCH_SPLITK = 2, SCRATCH_COUNT = 4 };

/** Streaming multiprocessors of the current device (cached after the first call). */
int sm_count();

inline bool aligned16(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }
inline int ceil_div(long long a, long long b) { return (int)((a + b - 1) / b); }

// ---- dtype loads -----------------------------------------------------------------------------

__device__ __forceinline__ float load_f(const void *p, vila_dtype dt, size_t i) {
  if (dt == VILA_F32) return __ldg(static_cast<const float *>(p) + i);
  const unsigned short u = __ldg(static_cast<const unsigned short *>(p) + i);
  if (dt == VILA_F16) return __half2float(__ushort_as_half(u));
  return __uint_as_float(static_cast<unsigned>(u) << 16);  // bf16 → f32 is a shift
}

__device__ __forceinline__ float bf16_bits_to_f(unsigned short u) { return __uint_as_float(static_cast<unsigned>(u) << 16); }

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// ---- internal entry points shared between files -------------------------------------------

/** The dense matmul (matmul.cu); patch_embed calls it on its im2col buffer. */
vila_status matmul_launch(float *out, const float *x, const void *w, vila_dtype w_dtype, const void *bias,
                          vila_dtype bias_dtype, int m, int n, int k);

}  // namespace vila

#define VILA_CHECK_DTYPE(dt)                                                                   \
  do {                                                                                         \
    if ((dt) != VILA_F32 && (dt) != VILA_F16 && (dt) != VILA_BF16)                            \
      return vila::fail(VILA_ERR_ARG, "%s: dtype %d is not f32, f16 or bf16", __func__, (int)(dt)); \
  } while (0)
