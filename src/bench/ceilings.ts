// This machine's ceilings, measured in the same process and the same run as the op figures (the
// shared host drifts from minute to minute, so ratios are only meaningful within one run):
//   fma:  wasm/ceiling.ts ceiling_fma, 12 independent f32x4 mul+add chains, 96 flops per iteration,
//         no memory traffic: the most a 128-bit SIMD kernel can compute.
//   read: ceiling_read, 16-byte loads streaming 64-byte blocks of a 512 MiB buffer (16× the L3),
//         filled with non-zero data first: untouched pages all map the kernel's shared zero page,
//         which reads from cache and reports several times the real DRAM bandwidth.
// Each is measured on one thread and, when the backend has more, on all of them through the
// runtime's pool (runtime.exec splits the blocks), the way a kernel runs.

import { BackendUnavailableError } from '../errors.js';
import type { WasmBackend } from '../wasm/backend.js';
import { timeSync, type TimingOptions } from './timing.js';

export interface Ceiling {
  threads: number;
  /** f32x4 multiply + add rate, GFLOP/s. */
  fma_gflops: number;
  /** Streaming read bandwidth of wasm memory, GB/s (10⁹ bytes). */
  read_gbs: number;
}

const FLOPS_PER_ITER = 96;
/** ≈ 10 ms per call at the 58.6 GFLOP/s the C membench measured for 128-bit mul+add. */
const FMA_ITERS = 6_000_000;
export const READ_BYTES = 512 * 1024 * 1024;
const BLOCK = 64;

function exec(be: WasmBackend, fn: string, args: number[], units: number, grain: number, threads: number): void {
  const rt = be.runtime;
  // work ≥ 200 000 lets the pool split the units over its threads; 0 keeps them on this one.
  rt.exec(rt.shards[0]!, fn, args, units, grain, threads > 1 ? Infinity : 0);
}

function requireExports(be: WasmBackend): void {
  try {
    exec(be, 'ceiling_fma', [1, 1], 1, 1, 1);
  } catch (e) {
    throw new BackendUnavailableError(`the WebAssembly build has no ceiling kernels (${(e as Error).message})`);
  }
}

/** Ceilings for 1 thread and, if the backend has more, for all its threads. */
export function measureCeilings(be: WasmBackend, timing: TimingOptions): Ceiling[] {
  requireExports(be);
  const counts = be.threads > 1 ? [1, be.threads] : [1];
  const heap = be.runtime.shards[0]!.heap;
  const shard = be.runtime.shards[0]!;
  const src = heap.alloc(READ_BYTES);
  const out = heap.alloc(BLOCK * 64);
  try {
    // A varying non-zero pattern: every page gets its own physical memory.
    const words = new Uint32Array(shard.buffer, src, READ_BYTES / 4);
    for (let i = 0; i < words.length; i++) words[i] = Math.imul(i, 0x9e3779b1) | 1;
    const blocks = READ_BYTES / BLOCK;
    return counts.map((t) => {
      const fma = timeSync(`ceiling fma ${t}t`, () => exec(be, 'ceiling_fma', [FMA_ITERS, 1.0001], t, 1, t), { ...timing, warmup: 2 });
      const read = timeSync(`ceiling read ${t}t`, () => exec(be, 'ceiling_read', [out, src], blocks, 4096, t), { ...timing, warmup: 2 });
      return {
        threads: t,
        fma_gflops: (FLOPS_PER_ITER * FMA_ITERS * t) / fma.ms / 1e6,
        read_gbs: READ_BYTES / read.ms / 1e6,
      };
    });
  } finally {
    heap.freeBlock(out);
    heap.freeBlock(src);
  }
}
