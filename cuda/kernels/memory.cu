// memory.cu: device, memory and stream helpers of vila_cuda.h, the thread-local error text and
// the library's scratch buffers. Every copy and memset is enqueued on the library stream, so it
// is ordered with the ops; only vila_download and vila_sync wait.

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.cuh"

namespace vila {

static cudaStream_t g_stream = nullptr;
static thread_local char g_error[512] = "";

struct Scratch {
  void *ptr = nullptr;
  size_t bytes = 0;
};
static Scratch g_scratch[SCRATCH_COUNT];

cudaStream_t stream() { return g_stream; }

vila_status fail(vila_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
  return st;
}

static bool no_device_error(cudaError_t e) {
  return e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver || e == cudaErrorInitializationError ||
         e == cudaErrorCompatNotSupportedOnDevice || e == cudaErrorSystemDriverMismatch;
}

vila_status cuda_status(cudaError_t e, const char *what) {
  if (e == cudaSuccess) return VILA_OK;
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return fail(VILA_ERR_OOM, "%s: %s", what, cudaGetErrorString(e));
  }
  return fail(no_device_error(e) ? VILA_ERR_NO_DEVICE : VILA_ERR_CUDA, "%s: %s (%s)", what, cudaGetErrorString(e),
              cudaGetErrorName(e));
}

vila_status launch_status(const char *what) { return cuda_status(cudaGetLastError(), what); }

int sm_count() {
  static int count = 0;
  if (count == 0) {
    int dev = 0, c = 0;
    if (cudaGetDevice(&dev) == cudaSuccess && cudaDeviceGetAttribute(&c, cudaDevAttrMultiProcessorCount, dev) == cudaSuccess && c > 0)
      count = c;
    else
      count = 108;
  }
  return count;
}

vila_status scratch(int slot, size_t bytes, void **ptr) {
  if (slot < 0 || slot >= SCRATCH_COUNT) return fail(VILA_ERR_ARG, "scratch slot %d", slot);
  Scratch &s = g_scratch[slot];
  if (s.bytes < bytes) {
    if (s.ptr != nullptr) cudaFree(s.ptr);
    s.ptr = nullptr;
    s.bytes = 0;
    // at least 16 MiB: decode-sized requests then never reallocate (which a CUDA graph capture
    // could not do)
    size_t want = bytes < ((size_t)16 << 20) ? ((size_t)16 << 20) : bytes;
    want += want / 4;  // some headroom so that slowly growing sizes do not reallocate every call
    vila_status st = cuda_status(cudaMalloc(&s.ptr, want), "scratch cudaMalloc");
    if (st != VILA_OK) return st;
    s.bytes = want;
  }
  *ptr = s.ptr;
  return VILA_OK;
}

}  // namespace vila

using namespace vila;

extern "C" {

const char *vila_last_error(void) { return g_error; }

vila_status vila_device_count(int *count) {
  if (count == nullptr) return fail(VILA_ERR_ARG, "vila_device_count: count is NULL");
  *count = 0;
  int c = 0;
  cudaError_t e = cudaGetDeviceCount(&c);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return fail(VILA_ERR_NO_DEVICE, "cudaGetDeviceCount: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
  }
  *count = c;
  if (c == 0) return fail(VILA_ERR_NO_DEVICE, "no CUDA device");
  return VILA_OK;
}

vila_status vila_device_info(char *name, size_t name_len, int *major, int *minor, size_t *total_mem) {
  int dev = 0;
  vila_status st = cuda_status(cudaGetDevice(&dev), "cudaGetDevice");
  if (st != VILA_OK) return st;
  cudaDeviceProp p;
  st = cuda_status(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
  if (st != VILA_OK) return st;
  if (name != nullptr && name_len > 0) {
    strncpy(name, p.name, name_len - 1);
    name[name_len - 1] = '\0';
  }
  if (major != nullptr) *major = p.major;
  if (minor != nullptr) *minor = p.minor;
  if (total_mem != nullptr) *total_mem = p.totalGlobalMem;
  return VILA_OK;
}

vila_status vila_malloc(void **ptr, size_t bytes) {
  if (ptr == nullptr) return fail(VILA_ERR_ARG, "vila_malloc: ptr is NULL");
  *ptr = nullptr;
  if (bytes == 0) bytes = 1;
  return cuda_status(cudaMalloc(ptr, bytes), "cudaMalloc");
}

vila_status vila_free(void *ptr) {
  if (ptr == nullptr) return VILA_OK;
  return cuda_status(cudaFree(ptr), "cudaFree");
}

vila_status vila_memset0(void *dst, size_t bytes) {
  if (bytes == 0) return VILA_OK;
  return cuda_status(cudaMemsetAsync(dst, 0, bytes, g_stream), "cudaMemsetAsync");
}

// Pageable sources: cudaMemcpyAsync returns once the source has been staged, so the caller may
// reuse its buffer at once; the copy stays ordered with the ops on the stream.
vila_status vila_upload(void *dst, const void *src, size_t bytes) {
  if (bytes == 0) return VILA_OK;
  return cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, g_stream), "upload");
}

vila_status vila_download(void *dst, const void *src, size_t bytes) {
  if (bytes != 0) {
    vila_status st = cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, g_stream), "download");
    if (st != VILA_OK) return st;
  }
  return cuda_status(cudaStreamSynchronize(g_stream), "download (synchronize)");
}

vila_status vila_copy(void *dst, const void *src, size_t bytes) {
  if (bytes == 0) return VILA_OK;
  return cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, g_stream), "device copy");
}

vila_status vila_sync(void) {
  vila_status st = cuda_status(cudaStreamSynchronize(g_stream), "synchronize");
  if (st != VILA_OK) return st;
  return cuda_status(cudaGetLastError(), "synchronize");
}

vila_status vila_set_stream(void *s) {
  g_stream = static_cast<cudaStream_t>(s);
  return VILA_OK;
}

}  // extern "C"
