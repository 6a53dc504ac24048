// embedding.cu: out (count, d) = table (vocab, d)[ids], table in its stored dtype.
// Reference: src/ref/embedding.ts (a copy, exact). ids out of range are the caller's error; the
// kernel clamps nothing and writes zeros for such a row rather than reading out of bounds.

#include "common.cuh"

namespace {

__global__ void embedding_kernel(float *out, const void *table, vila_dtype dt, const int32_t *ids, int vocab, int d) {
  const int r = blockIdx.x;
  const int id = ids[r];
  float *o = out + (size_t)r * d;
  if (id < 0 || id >= vocab) {
    for (int j = threadIdx.x; j < d; j += blockDim.x) o[j] = 0.0f;
    return;
  }
  const size_t base = (size_t)id * d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) o[j] = vila::load_f(table, dt, base + j);
}

}  // namespace

extern "C" vila_status vila_embedding_f32(float *out, const void *table, vila_dtype dtype, const int32_t *ids, int count, int vocab,
                                          int d) {
  VILA_CHECK_DTYPE(dtype);
  if (count < 0 || vocab <= 0 || d <= 0) return vila::fail(VILA_ERR_ARG, "embedding: count %d, vocab %d, d %d", count, vocab, d);
  if (count == 0) return VILA_OK;
  embedding_kernel<<<count, 256, 0, vila::stream()>>>(out, table, dtype, ids, vocab, d);
  return vila::launch_status("embedding");
}
