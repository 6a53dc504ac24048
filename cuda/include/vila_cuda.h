/*
 * vila_cuda.h: the CUDA backend's C interface. One function per op of the op interface
 * (src/backend.ts OpArgs), output argument first, raw device pointers and sizes, a status code.
 * The Node-API glue (cuda/addon/) only marshals arguments to these functions; all math is in
 * the .cu files of cuda/kernels/.
 *
 * Conventions
 * - Activations are f32 in device memory, row-major and contiguous, exactly as the op interface
 *   defines them. A kernel may convert them internally (e.g. to f16 for tensor cores) but reads
 *   and writes f32.
 * - Weights stay in their stored dtype (VILA_F32 / VILA_F16 / VILA_BF16), uploaded once.
 * - int4 weights are read in the TinyChat v2 layout (spec/awq.md §2): qweight (n/4, k) 16-bit
 *   words, scales and scaled_zeros (gp, n) with gp = 8·ceil(k/group/8) padded rows; the weight
 *   is W[o][i] = q·s + sz rounded once to the scale dtype (§2.4).
 * - Every op is enqueued on the library's stream (vila_set_stream, default the legacy stream)
 *   and returns without synchronizing; errors of the launch itself are returned at once,
 *   errors of execution at the next vila_sync.
 * - Optional pointers (bias) may be NULL.
 */
#ifndef VILA_CUDA_H
#define VILA_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  VILA_OK = 0,
  VILA_ERR_ARG = 1,         /* a size or dtype the kernel does not accept */
  VILA_ERR_CUDA = 2,        /* a CUDA runtime error: see vila_last_error() */
  VILA_ERR_NO_DEVICE = 3,   /* no CUDA device, or the driver is missing or too old */
  VILA_ERR_OOM = 4          /* device allocation failed */
} vila_status;

typedef enum { VILA_F32 = 0, VILA_F16 = 1, VILA_BF16 = 2 } vila_dtype;

/* ---- device, memory, stream ------------------------------------------------------------ */

/** Text of the last error on this thread (never NULL; "" when none). */
const char *vila_last_error(void);
/** Number of devices; VILA_ERR_NO_DEVICE when none or no driver. */
vila_status vila_device_count(int *count);
/** Name, compute capability and memory of the current device. */
vila_status vila_device_info(char *name, size_t name_len, int *major, int *minor, size_t *total_mem);
vila_status vila_malloc(void **ptr, size_t bytes);
vila_status vila_free(void *ptr);
vila_status vila_memset0(void *dst, size_t bytes);
vila_status vila_upload(void *dst, const void *src, size_t bytes);     /* host → device */
vila_status vila_download(void *dst, const void *src, size_t bytes);   /* device → host, synchronizes */
vila_status vila_copy(void *dst, const void *src, size_t bytes);       /* device → device */
vila_status vila_sync(void);
/** Use this stream (a cudaStream_t) for every op; NULL for the legacy default stream. */
vila_status vila_set_stream(void *stream);

/* ---- ops (names mirror src/ref/ and wasm/) --------------------------------------------- */

/** out (m,n) = x (m,k) · w (n,k)ᵀ + bias (n). w and bias in w_dtype / bias_dtype. */
vila_status vila_matmul_f32(float *out, const float *x, const void *w, vila_dtype w_dtype,
                            const void *bias, vila_dtype bias_dtype, int m, int n, int k);

/**
 * out (m,n) = x (m,k) · dequant(w) (n,k)ᵀ + bias (n), w int4 TinyChat v2 (see above):
 * qweight (n/4, k) uint16, scales and scaled_zeros (gp, n) in scale_dtype (f16, bf16 or f32),
 * group_size divides k; n % 4 == 0, k % 64 == 0.
 */
vila_status vila_matmul_q4_f32(float *out, const float *x, const uint16_t *qweight, const void *scales,
                               const void *scaled_zeros, vila_dtype scale_dtype, int group_size,
                               const void *bias, vila_dtype bias_dtype, int m, int n, int k);

/** out (m,n) = (x − mean)/sqrt(var + eps)·weight + bias, per row. */
vila_status vila_layer_norm_f32(float *out, const float *x, const void *weight, const void *bias,
                                vila_dtype dtype, float eps, int m, int n);

/** out (m,n) = x/sqrt(mean(x²) + eps)·weight, per row. */
vila_status vila_rms_norm_f32(float *out, const float *x, const void *weight, vila_dtype dtype,
                              float eps, int m, int n);

/** Elementwise over count values: GELU tanh approximation, exact (erf) GELU. */
vila_status vila_gelu_tanh_f32(float *out, const float *x, size_t count);
vila_status vila_gelu_erf_f32(float *out, const float *x, size_t count);
/** out = silu(gate)·up, count values. */
vila_status vila_silu_mul_f32(float *out, const float *gate, const float *up, size_t count);
vila_status vila_add_f32(float *out, const float *a, const float *b, size_t count);
vila_status vila_mul_f32(float *out, const float *a, const float *b, size_t count);

/**
 * Rotate-half RoPE in place on x (m, heads·head_dim); row r at position positions[r] (a device
 * array of m int32). Angles position·theta^(−2j/head_dim) as HF Llama computes them.
 */
vila_status vila_rope_f32(float *x, const int32_t *positions, int m, int heads, int head_dim, float theta);

/**
 * Attention with grouped KV heads: q (m, heads·head_dim); k, v caches of which rows
 * [0, kv_len) are read, each row kv_heads·head_dim wide; query row r at position q_start + r;
 * causal: row r sees keys [0, q_start + r]. out (m, heads·head_dim).
 */
vila_status vila_attention_f32(float *out, const float *q, const float *k, const float *v, int m,
                               int kv_len, int q_start, int heads, int kv_heads, int head_dim,
                               int causal, float scale);

/** out (count, d) = table (vocab, d)[ids[r]]; ids a device array of count int32, all in range. */
vila_status vila_embedding_f32(float *out, const void *table, vila_dtype dtype, const int32_t *ids,
                               int count, int vocab, int d);

/**
 * Patch convolution, kernel = stride = patch: pixels (c,h,w) · weight (d,c,p,p) + bias (d)
 * → out (⌊h/p⌋·⌊w/p⌋, d), patches row-major.
 */
vila_status vila_patch_embed_f32(float *out, const float *pixels, const void *weight, const void *bias,
                                 vila_dtype dtype, int c, int h, int w, int d, int patch);

/**
 * VILA DownSampleBlock: x (grid·grid, c) → out (⌈grid/2⌉², 4c), zero padded at the bottom and
 * right for odd grids; output token t = j·(g'/2) + i holds [x(2i,2j), x(2i,2j+1), x(2i+1,2j), x(2i+1,2j+1)].
 */
vila_status vila_downsample_2x2_f32(float *out, const float *x, int grid, int c);

#ifdef __cplusplus
}
#endif

#endif /* VILA_CUDA_H */
