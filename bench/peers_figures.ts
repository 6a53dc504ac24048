// What established runtimes measured on this machine (/work/shared/peers.md, medians of
// 2026-11-26; bench/peers.sh reruns them). Copied here as data so the chart and the README can
// set our figures beside them; thread count → value.

export type PerThreads = Readonly<Record<1 | 2, number>>;

export const PEERS = {
  measured: '2026-11-26',
  /** Not necessarily the machine a later run is on: compare the CPU in a result's header. */
  cpu: 'AMD EPYC family 25 model 17 (Zen 4, AVX-512)',
  source: 'peers.md (/work/shared/peers/README.md has the spread)',
  /** membench.c: 1 GiB array, 128-bit loads × 8 accumulators. */
  readGbs: { 1: 21.5, 2: 30.0 } as PerThreads,
  /** membench.c: fp32 mul+add at 128-bit width (the WebAssembly SIMD width). */
  fma128Gflops: { 1: 58.6, 2: 116.7 } as PerThreads,
  /** membench.c: fp32 FMA at 256/512-bit, the native ceiling. */
  fmaNativeGflops: { 1: 117.2, 2: 233.2 } as PerThreads,
  /** int4 GEMV M=1, K = N = 4096, block 128, 8 distinct layers (weights from DRAM), ms per layer. */
  gemvQ4Ms: {
    'onnxruntime-node MatMulNBits int8': { 1: 0.604, 2: 0.373 } as PerThreads,
    'onnxruntime-web wasm MatMulNBits': { 1: 52.9, 2: 27.6 } as PerThreads,
  },
  /** int4 GEMM M=128, K = N = 4096, GFLOP/s. */
  gemmQ4Gflops: {
    'onnxruntime-node MatMulNBits int8': { 1: 199, 2: 393 } as PerThreads,
    'onnxruntime-web wasm MatMulNBits': { 1: 21.7, 2: 41.8 } as PerThreads,
  },
  /** llama.cpp (node-llama-cpp 3.21.1) on the llama-ref shape, tok/s. */
  llamaCpp: {
    'llama.cpp Q4_0': { decode: { 1: 36.67, 2: 34.2 } as PerThreads, prefill: { 1: 96.8, 2: 187.6 } as PerThreads },
    'llama.cpp F32': { decode: { 1: 7.71, 2: 9.79 } as PerThreads, prefill: { 1: 27.3, 2: 53.6 } as PerThreads },
  },
} as const;
