/*
 * vila_addon.c: the Node-API glue of the CUDA backend. Marshalling only, no math: every op
 * function unpacks (buffer handle, byte offset) pairs and sizes from JavaScript and calls the
 * C function of the same name in cuda/include/vila_cuda.h (implemented in cuda/kernels/).
 *
 * Device buffers are owned by handles: a napi external, type-tagged so that no other external
 * can be passed as one, whose finalizer frees the device memory when the handle is collected;
 * `free(handle)` frees it at once (later use of the handle is an error). Each allocation is
 * reported to V8 as external memory so that the garbage collector sees the pressure.
 *
 * Errors: a status other than VILA_OK throws a JavaScript Error whose `code` is the status name
 * (VILA_ERR_CUDA, ...) and whose message is "<function>: <vila_last_error()>"; src/cuda/ turns
 * it into a VilaError subclass naming the op.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vila_cuda.h"

typedef struct {
  void *ptr;
  size_t bytes;
} vbuf;

static const napi_type_tag VBUF_TAG = {0x76696c615f637564ULL, 0x615f627566666572ULL};

/* ---- helpers ----------------------------------------------------------------------------- */

static const char *status_name(vila_status s) {
  switch (s) {
    case VILA_OK: return "VILA_OK";
    case VILA_ERR_ARG: return "VILA_ERR_ARG";
    case VILA_ERR_CUDA: return "VILA_ERR_CUDA";
    case VILA_ERR_NO_DEVICE: return "VILA_ERR_NO_DEVICE";
    case VILA_ERR_OOM: return "VILA_ERR_OOM";
  }
  return "VILA_ERR_UNKNOWN";
}

/* Throw for a status other than VILA_OK; returns 1 when it threw. */
static int check(napi_env env, vila_status s, const char *fn) {
  if (s == VILA_OK) return 0;
  char msg[1024];
  const char *detail = vila_last_error();
  snprintf(msg, sizeof msg, "%s: %s%s%s", fn, status_name(s), detail && *detail ? ": " : "", detail ? detail : "");
  napi_throw_error(env, status_name(s), msg);
  return 1;
}

#define NAPI_OK(call)                                                       \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      const napi_extended_error_info *info_ = NULL;                         \
      napi_get_last_error_info(env, &info_);                                \
      bool pending_ = false;                                                \
      napi_is_exception_pending(env, &pending_);                            \
      if (!pending_)                                                        \
        napi_throw_error(env, "VILA_ERR_NAPI",                              \
                         info_ && info_->error_message ? info_->error_message \
                                                       : "Node-API call failed"); \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

#define MAX_ARGS 20

typedef struct {
  napi_env env;
  size_t argc;
  napi_value argv[MAX_ARGS];
  const char *fn;
} args_t;

static int get_args(napi_env env, napi_callback_info info, args_t *a, size_t want, const char *fn) {
  a->env = env;
  a->argc = MAX_ARGS;
  a->fn = fn;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "VILA_ERR_ARG", "cannot read arguments");
    return 1;
  }
  if (a->argc < want) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: expected %zu arguments, got %zu", fn, want, a->argc);
    napi_throw_type_error(env, "VILA_ERR_ARG", msg);
    return 1;
  }
  return 0;
}

static int arg_error(args_t *a, size_t i, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: argument %zu must be %s", a->fn, i, what);
  napi_throw_type_error(a->env, "VILA_ERR_ARG", msg);
  return 1;
}

static int get_i32(args_t *a, size_t i, int *out) {
  int32_t v;
  if (napi_get_value_int32(a->env, a->argv[i], &v) != napi_ok) return arg_error(a, i, "a number");
  *out = v;
  return 0;
}

static int get_f32(args_t *a, size_t i, float *out) {
  double v;
  if (napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) return arg_error(a, i, "a number");
  *out = (float)v;
  return 0;
}

static int get_size(args_t *a, size_t i, size_t *out) {
  double v;
  if (napi_get_value_double(a->env, a->argv[i], &v) != napi_ok || v < 0 || v > 9007199254740991.0 || v != (double)(uint64_t)v)
    return arg_error(a, i, "a whole number ≥ 0");
  *out = (size_t)v;
  return 0;
}

/* The vbuf behind argument i (NULL result allowed when `optional` and the argument is null). */
static int get_buf(args_t *a, size_t i, vbuf **out, int optional) {
  napi_valuetype t;
  if (napi_typeof(a->env, a->argv[i], &t) != napi_ok) return arg_error(a, i, "a device buffer");
  if (optional && (t == napi_null || t == napi_undefined)) {
    *out = NULL;
    return 0;
  }
  bool tagged = false;
  if (t != napi_external || napi_check_object_type_tag(a->env, a->argv[i], &VBUF_TAG, &tagged) != napi_ok || !tagged)
    return arg_error(a, i, "a device buffer handle");
  void *p = NULL;
  if (napi_get_value_external(a->env, a->argv[i], &p) != napi_ok || p == NULL) return arg_error(a, i, "a device buffer handle");
  vbuf *b = (vbuf *)p;
  if (b->ptr == NULL) return arg_error(a, i, "a device buffer that has not been freed");
  *out = b;
  return 0;
}

/* Device pointer for the (handle, byte offset) pair at arguments i, i+1; NULL for an optional null handle. */
static int get_ptr(args_t *a, size_t i, void **out, int optional) {
  vbuf *b;
  if (get_buf(a, i, &b, optional)) return 1;
  if (b == NULL) {
    *out = NULL;
    return 0;
  }
  size_t off;
  if (get_size(a, i + 1, &off)) return 1;
  if (off > b->bytes) return arg_error(a, i + 1, "a byte offset inside its buffer");
  *out = (char *)b->ptr + off;
  return 0;
}

/* Bytes of a TypedArray/Buffer argument. */
static int get_bytes(args_t *a, size_t i, void **data, size_t *len) {
  bool is_ta = false;
  napi_is_typedarray(a->env, a->argv[i], &is_ta);
  if (!is_ta) return arg_error(a, i, "a typed array");
  napi_typedarray_type type;
  size_t length, offset;
  napi_value ab;
  void *base;
  if (napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &base, &ab, &offset) != napi_ok) return arg_error(a, i, "a typed array");
  size_t el = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: el = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
    default: el = 1;
  }
  *data = base; /* napi returns the data pointer already offset to the view's start */
  *len = length * el;
  return 0;
}

static napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* ---- buffers ----------------------------------------------------------------------------- */

static void finalize_buf(napi_env env, void *data, void *hint) {
  (void)hint;
  vbuf *b = (vbuf *)data;
  if (b->ptr != NULL) {
    vila_free(b->ptr);
    int64_t adjusted;
    napi_adjust_external_memory(env, -(int64_t)b->bytes, &adjusted);
  }
  free(b);
}

/* alloc(bytes) → handle; the memory is zero-filled. */
static napi_value js_alloc(napi_env env, napi_callback_info info) {
  args_t a;
  if (get_args(env, info, &a, 1, "alloc")) return NULL;
  size_t bytes;
  if (get_size(&a, 0, &bytes)) return NULL;
  void *p = NULL;
  if (check(env, vila_malloc(&p, bytes ? bytes : 1), "vila_malloc")) return NULL;
  if (bytes && check(env, vila_memset0(p, bytes), "vila_memset0")) {
    vila_free(p);
    return NULL;
  }
  vbuf *b = (vbuf *)malloc(sizeof *b);
  if (b == NULL) {
    vila_free(p);
    napi_throw_error(env, "VILA_ERR_OOM", "alloc: out of host memory");
    return NULL;
  }
  b->ptr = p;
  b->bytes = bytes;
  napi_value h;
  if (napi_create_external(env, b, finalize_buf, NULL, &h) != napi_ok) {
    vila_free(p);
    free(b);
    napi_throw_error(env, "VILA_ERR_NAPI", "alloc: cannot create the handle");
    return NULL;
  }
  NAPI_OK(napi_type_tag_object(env, h, &VBUF_TAG));
  int64_t adjusted;
  napi_adjust_external_memory(env, (int64_t)bytes, &adjusted);
  return h;
}

/* free(handle): frees now; a second free is a no-op. */
static napi_value js_free(napi_env env, napi_callback_info info) {
  args_t a;
  if (get_args(env, info, &a, 1, "free")) return NULL;
  napi_valuetype t;
  NAPI_OK(napi_typeof(env, a.argv[0], &t));
  bool tagged = false;
  if (t != napi_external || napi_check_object_type_tag(env, a.argv[0], &VBUF_TAG, &tagged) != napi_ok || !tagged) {
    arg_error(&a, 0, "a device buffer handle");
    return NULL;
  }
  void *p;
  NAPI_OK(napi_get_value_external(env, a.argv[0], &p));
  vbuf *b = (vbuf *)p;
  if (b->ptr != NULL) {
    vila_status s = vila_free(b->ptr);
    b->ptr = NULL;
    int64_t adjusted;
    napi_adjust_external_memory(env, -(int64_t)b->bytes, &adjusted);
    if (check(env, s, "vila_free")) return NULL;
  }
  return undef(env);
}

/* size(handle) → bytes (0 once freed). */
static napi_value js_size(napi_env env, napi_callback_info info) {
  args_t a;
  if (get_args(env, info, &a, 1, "size")) return NULL;
  vbuf *b;
  if (get_buf(&a, 0, &b, 0)) return NULL;
  napi_value r;
  NAPI_OK(napi_create_double(env, (double)b->bytes, &r));
  return r;
}

/* Check that [off, off+len) lies in buffer b. */
static int in_range(args_t *a, size_t i, vbuf *b, size_t off, size_t len) {
  if (off > b->bytes || len > b->bytes - off) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: bytes [%zu, %zu) are outside the device buffer of %zu bytes (argument %zu)", a->fn, off, off + len, b->bytes, i);
    napi_throw_range_error(a->env, "VILA_ERR_ARG", msg);
    return 1;
  }
  return 0;
}

/* upload(handle, byteOffset, typedArray): host → device. */
static napi_value js_upload(napi_env env, napi_callback_info info) {
  args_t a;
  if (get_args(env, info, &a, 3, "upload")) return NULL;
  vbuf *b;
  size_t off, len;
  void *src;
  if (get_buf(&a, 0, &b, 0) || get_size(&a, 1, &off) || get_bytes(&a, 2, &src, &len) || in_range(&a, 0, b, off, len)) return NULL;
  if (len && check(env, vila_upload((char *)b->ptr + off, src, len), "vila_upload")) return NULL;
  return undef(env);
}

/* download(handle, byteOffset, typedArray): device → host (synchronizes). */
static napi_value js_download(napi_env env, napi_callback_info info) {
  args_t a;
  if (get_args(env, info, &a, 3, "download")) return NULL;
  vbuf *b;
  size_t off, len;
  void *dst;
  if (get_buf(&a, 0, &b, 0) || get_size(&a, 1, &off) || get_bytes(&a, 2, &dst, &len) || in_range(&a, 0, b, off, len)) return NULL;
  if (len && check(env, vila_download(dst, (char *)b->ptr + off, len), "vila_download")) return NULL;
  return undef(env);
}

/* copy(dst, dstOffset, src, srcOffset, bytes): device → device. */
static napi_value js_copy(napi_env env, napi_callback_info info) {
  args_t a;
  if (get_args(env, info, &a, 5, "copy")) return NULL;
  vbuf *d, *s;
  size_t doff, soff, len;
  if (get_buf(&a, 0, &d, 0) || get_size(&a, 1, &doff) || get_buf(&a, 2, &s, 0) || get_size(&a, 3, &soff) || get_size(&a, 4, &len)) return NULL;
  if (in_range(&a, 0, d, doff, len) || in_range(&a, 2, s, soff, len)) return NULL;
  if (len && check(env, vila_copy((char *)d->ptr + doff, (char *)s->ptr + soff, len), "vila_copy")) return NULL;
  return undef(env);
}

/* memset0(handle, byteOffset, bytes). */
static napi_value js_memset0(napi_env env, napi_callback_info info) {
  args_t a;
  if (get_args(env, info, &a, 3, "memset0")) return NULL;
  vbuf *b;
  size_t off, len;
  if (get_buf(&a, 0, &b, 0) || get_size(&a, 1, &off) || get_size(&a, 2, &len) || in_range(&a, 0, b, off, len)) return NULL;
  if (len && check(env, vila_memset0((char *)b->ptr + off, len), "vila_memset0")) return NULL;
  return undef(env);
}

static napi_value js_sync(napi_env env, napi_callback_info info) {
  (void)info;
  if (check(env, vila_sync(), "vila_sync")) return NULL;
  return undef(env);
}

/* ---- device ------------------------------------------------------------------------------ */

/* deviceCount() → number of devices (0 when none or no driver: never throws for that). */
static napi_value js_device_count(napi_env env, napi_callback_info info) {
  (void)info;
  int count = 0;
  vila_status s = vila_device_count(&count);
  if (s == VILA_ERR_NO_DEVICE) count = 0;
  else if (check(env, s, "vila_device_count")) return NULL;
  napi_value r;
  NAPI_OK(napi_create_int32(env, count, &r));
  return r;
}

/* lastError() → text of the last error of the library ("" when none). */
static napi_value js_last_error(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  const char *e = vila_last_error();
  NAPI_OK(napi_create_string_utf8(env, e ? e : "", NAPI_AUTO_LENGTH, &r));
  return r;
}

/* deviceInfo() → { name, major, minor, totalMem }. */
static napi_value js_device_info(napi_env env, napi_callback_info info) {
  (void)info;
  char name[256] = {0};
  int major = 0, minor = 0;
  size_t total = 0;
  if (check(env, vila_device_info(name, sizeof name, &major, &minor, &total), "vila_device_info")) return NULL;
  napi_value o, v;
  NAPI_OK(napi_create_object(env, &o));
  NAPI_OK(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v));
  NAPI_OK(napi_set_named_property(env, o, "name", v));
  NAPI_OK(napi_create_int32(env, major, &v));
  NAPI_OK(napi_set_named_property(env, o, "major", v));
  NAPI_OK(napi_create_int32(env, minor, &v));
  NAPI_OK(napi_set_named_property(env, o, "minor", v));
  NAPI_OK(napi_create_double(env, (double)total, &v));
  NAPI_OK(napi_set_named_property(env, o, "totalMem", v));
  return o;
}

/* ---- ops: (handle, byteOffset) per pointer, then sizes, in the header's order ------------ */

#define ARGS(n, name)                                   \
  args_t a;                                             \
  if (get_args(env, info, &a, (n), (name))) return NULL

#define DONE(call, name)                                \
  if (check(env, (call), (name))) return NULL;          \
  return undef(env)

/* matmul(out,o, x,o, w,o, wDtype, bias|null,o, biasDtype, m, n, k) */
static napi_value js_matmul(napi_env env, napi_callback_info info) {
  ARGS(13, "vila_matmul_f32");
  void *out, *x, *w, *bias;
  int wd, bd, m, n, k;
  if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &x, 0) || get_ptr(&a, 4, &w, 0) || get_i32(&a, 6, &wd) || get_ptr(&a, 7, &bias, 1) ||
      get_i32(&a, 9, &bd) || get_i32(&a, 10, &m) || get_i32(&a, 11, &n) || get_i32(&a, 12, &k))
    return NULL;
  DONE(vila_matmul_f32((float *)out, (const float *)x, w, (vila_dtype)wd, bias, (vila_dtype)bd, m, n, k), a.fn);
}

/* matmulQ4(out,o, x,o, qweight,o, scales,o, scaledZeros,o, scaleDtype, groupSize, bias|null,o, biasDtype, m, n, k) */
static napi_value js_matmul_q4(napi_env env, napi_callback_info info) {
  ARGS(18, "vila_matmul_q4_f32");
  void *out, *x, *qw, *sc, *sz, *bias;
  int sd, g, bd, m, n, k;
  if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &x, 0) || get_ptr(&a, 4, &qw, 0) || get_ptr(&a, 6, &sc, 0) || get_ptr(&a, 8, &sz, 0) ||
      get_i32(&a, 10, &sd) || get_i32(&a, 11, &g) || get_ptr(&a, 12, &bias, 1) || get_i32(&a, 14, &bd) || get_i32(&a, 15, &m) ||
      get_i32(&a, 16, &n) || get_i32(&a, 17, &k))
    return NULL;
  DONE(vila_matmul_q4_f32((float *)out, (const float *)x, (const uint16_t *)qw, sc, sz, (vila_dtype)sd, g, bias, (vila_dtype)bd, m, n, k), a.fn);
}

/* layerNorm(out,o, x,o, weight,o, bias,o, dtype, eps, m, n) */
static napi_value js_layer_norm(napi_env env, napi_callback_info info) {
  ARGS(12, "vila_layer_norm_f32");
  void *out, *x, *w, *b;
  int dt, m, n;
  float eps;
  if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &x, 0) || get_ptr(&a, 4, &w, 0) || get_ptr(&a, 6, &b, 0) || get_i32(&a, 8, &dt) ||
      get_f32(&a, 9, &eps) || get_i32(&a, 10, &m) || get_i32(&a, 11, &n))
    return NULL;
  DONE(vila_layer_norm_f32((float *)out, (const float *)x, w, b, (vila_dtype)dt, eps, m, n), a.fn);
}

/* rmsNorm(out,o, x,o, weight,o, dtype, eps, m, n) */
static napi_value js_rms_norm(napi_env env, napi_callback_info info) {
  ARGS(10, "vila_rms_norm_f32");
  void *out, *x, *w;
  int dt, m, n;
  float eps;
  if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &x, 0) || get_ptr(&a, 4, &w, 0) || get_i32(&a, 6, &dt) || get_f32(&a, 7, &eps) ||
      get_i32(&a, 8, &m) || get_i32(&a, 9, &n))
    return NULL;
  DONE(vila_rms_norm_f32((float *)out, (const float *)x, w, (vila_dtype)dt, eps, m, n), a.fn);
}

/* unary(out,o, x,o, count) */
#define UNARY(js, cfn)                                                                       \
  static napi_value js(napi_env env, napi_callback_info info) {                              \
    ARGS(5, #cfn);                                                                           \
    void *out, *x;                                                                           \
    size_t count;                                                                            \
    if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &x, 0) || get_size(&a, 4, &count)) return NULL; \
    DONE(cfn((float *)out, (const float *)x, count), a.fn);                                  \
  }
UNARY(js_gelu_tanh, vila_gelu_tanh_f32)
UNARY(js_gelu_erf, vila_gelu_erf_f32)

/* binary(out,o, a,o, b,o, count) */
#define BINARY(js, cfn)                                                                      \
  static napi_value js(napi_env env, napi_callback_info info) {                              \
    ARGS(7, #cfn);                                                                           \
    void *out, *x, *y;                                                                       \
    size_t count;                                                                            \
    if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &x, 0) || get_ptr(&a, 4, &y, 0) || get_size(&a, 6, &count)) return NULL; \
    DONE(cfn((float *)out, (const float *)x, (const float *)y, count), a.fn);               \
  }
BINARY(js_silu_mul, vila_silu_mul_f32)
BINARY(js_add, vila_add_f32)
BINARY(js_mul, vila_mul_f32)

/* rope(x,o, positions,o, m, heads, headDim, theta) */
static napi_value js_rope(napi_env env, napi_callback_info info) {
  ARGS(8, "vila_rope_f32");
  void *x, *pos;
  int m, h, hd;
  float theta;
  if (get_ptr(&a, 0, &x, 0) || get_ptr(&a, 2, &pos, 0) || get_i32(&a, 4, &m) || get_i32(&a, 5, &h) || get_i32(&a, 6, &hd) ||
      get_f32(&a, 7, &theta))
    return NULL;
  DONE(vila_rope_f32((float *)x, (const int32_t *)pos, m, h, hd, theta), a.fn);
}

/* attention(out,o, q,o, k,o, v,o, m, kvLen, qStart, heads, kvHeads, headDim, causal, scale) */
static napi_value js_attention(napi_env env, napi_callback_info info) {
  ARGS(16, "vila_attention_f32");
  void *out, *q, *k, *v;
  int m, kv, qs, h, kvh, hd, causal;
  float scale;
  if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &q, 0) || get_ptr(&a, 4, &k, 0) || get_ptr(&a, 6, &v, 0) || get_i32(&a, 8, &m) ||
      get_i32(&a, 9, &kv) || get_i32(&a, 10, &qs) || get_i32(&a, 11, &h) || get_i32(&a, 12, &kvh) || get_i32(&a, 13, &hd) ||
      get_i32(&a, 14, &causal) || get_f32(&a, 15, &scale))
    return NULL;
  DONE(vila_attention_f32((float *)out, (const float *)q, (const float *)k, (const float *)v, m, kv, qs, h, kvh, hd, causal, scale), a.fn);
}

/* embedding(out,o, table,o, dtype, ids,o, count, vocab, d) */
static napi_value js_embedding(napi_env env, napi_callback_info info) {
  ARGS(10, "vila_embedding_f32");
  void *out, *table, *ids;
  int dt, count, vocab, d;
  if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &table, 0) || get_i32(&a, 4, &dt) || get_ptr(&a, 5, &ids, 0) || get_i32(&a, 7, &count) ||
      get_i32(&a, 8, &vocab) || get_i32(&a, 9, &d))
    return NULL;
  DONE(vila_embedding_f32((float *)out, table, (vila_dtype)dt, (const int32_t *)ids, count, vocab, d), a.fn);
}

/* patchEmbed(out,o, pixels,o, weight,o, bias,o, dtype, c, h, w, d, patch) */
static napi_value js_patch_embed(napi_env env, napi_callback_info info) {
  ARGS(14, "vila_patch_embed_f32");
  void *out, *px, *w, *b;
  int dt, c, h, wd, d, p;
  if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &px, 0) || get_ptr(&a, 4, &w, 0) || get_ptr(&a, 6, &b, 0) || get_i32(&a, 8, &dt) ||
      get_i32(&a, 9, &c) || get_i32(&a, 10, &h) || get_i32(&a, 11, &wd) || get_i32(&a, 12, &d) || get_i32(&a, 13, &p))
    return NULL;
  DONE(vila_patch_embed_f32((float *)out, (const float *)px, w, b, (vila_dtype)dt, c, h, wd, d, p), a.fn);
}

/* downsample2x2(out,o, x,o, grid, c) */
static napi_value js_downsample(napi_env env, napi_callback_info info) {
  ARGS(6, "vila_downsample_2x2_f32");
  void *out, *x;
  int grid, c;
  if (get_ptr(&a, 0, &out, 0) || get_ptr(&a, 2, &x, 0) || get_i32(&a, 4, &grid) || get_i32(&a, 5, &c)) return NULL;
  DONE(vila_downsample_2x2_f32((float *)out, (const float *)x, grid, c), a.fn);
}

/* ---- module ------------------------------------------------------------------------------ */

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"deviceCount", js_device_count}, {"deviceInfo", js_device_info}, {"lastError", js_last_error},
      {"alloc", js_alloc},              {"free", js_free},              {"size", js_size},
      {"upload", js_upload},            {"download", js_download},      {"copy", js_copy},
      {"memset0", js_memset0},          {"sync", js_sync},              {"matmul", js_matmul},
      {"matmulQ4", js_matmul_q4},       {"layerNorm", js_layer_norm},   {"rmsNorm", js_rms_norm},
      {"geluTanh", js_gelu_tanh},       {"geluErf", js_gelu_erf},       {"siluMul", js_silu_mul},
      {"add", js_add},                  {"mul", js_mul},                {"rope", js_rope},
      {"attention", js_attention},      {"embedding", js_embedding},    {"patchEmbed", js_patch_embed},
      {"downsample2x2", js_downsample},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    NAPI_OK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f));
    NAPI_OK(napi_set_named_property(env, exports, fns[i].name, f));
  }
  napi_value v;
  NAPI_OK(napi_create_int32(env, 1, &v));
  NAPI_OK(napi_set_named_property(env, exports, "abiVersion", v));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
