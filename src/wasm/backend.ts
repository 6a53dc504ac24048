// The WebAssembly backend: the same op interface as the reference, run by AssemblyScript SIMD
// kernels over shared wasm memory, on a pool of threads. Ops (or argument combinations) that
// have no wasm kernel run on the reference kernels, so every model runs; `support()` tells which.

import { cpus } from 'node:os';
import * as os from 'node:os';
import type { Backend, Kernels, OpArgs, OpName } from '../backend.js';
import { createRefBackend } from '../ref/index.js';
import type { F32Tensor, Tensor } from '../tensor.js';
import { loadKernels, relaxedSimdAvailable, type WasmFlavor } from './module.js';
import { matmul } from './ops_matmul.js';
import { gelu_erf, gelu_tanh, silu_mul } from './ops_activation.js';
import { attention } from './ops_attention.js';
import { add, mul } from './ops_elementwise.js';
import { embedding } from './ops_embedding.js';
import { layer_norm, rms_norm } from './ops_norm.js';
import { rope } from './ops_rope.js';
import { downsample_2x2, patch_embed } from './ops_vision.js';
import { matmul_q4, q4KernelTakes } from './ops_matmul_q4.js';
import { WasmRuntime } from './runtime.js';

export interface WasmBackendOptions {
  /** Threads (the calling thread included); default os.availableParallelism(). */
  threads?: number;
  /** 'relaxed' needs engine support; default: relaxed where the engine validates it, else simd. */
  flavor?: WasmFlavor;
  /** Bytes per memory shard (for tests of weight spreading); default just under 4 GiB. */
  shardLimit?: number;
}

export interface WasmBackend extends Backend {
  readonly threads: number;
  readonly flavor: WasmFlavor;
  readonly runtime: WasmRuntime;
  /** Whether `op` with `args` runs a wasm kernel (false: the reference kernel stands in). */
  native<K extends OpName>(op: K, args: OpArgs[K]): boolean;
  /** Stop the worker threads (they never keep the process alive, but tests close them). */
  close(): void;
}

export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus().length;
}

type Native = { [K in OpName]?: { run: (rt: WasmRuntime, a: OpArgs[K]) => void; when?: (a: OpArgs[K]) => boolean } };

const FLOAT = new Set(['f32', 'bf16', 'f16']);

const NATIVE: Native = {
  matmul: { run: matmul, when: (a) => FLOAT.has(a.w.dtype) && (a.bias === undefined || FLOAT.has(a.bias.dtype)) },
  layer_norm: { run: layer_norm, when: (a) => FLOAT.has(a.weight.dtype) && FLOAT.has(a.bias.dtype) },
  rms_norm: { run: rms_norm, when: (a) => FLOAT.has(a.weight.dtype) },
  gelu_tanh: { run: gelu_tanh },
  gelu_erf: { run: gelu_erf },
  silu_mul: { run: silu_mul },
  add: { run: add },
  mul: { run: mul },
  rope: { run: rope },
  attention: { run: attention },
  embedding: { run: embedding, when: (a) => FLOAT.has(a.table.dtype) },
  patch_embed: { run: patch_embed, when: (a) => FLOAT.has(a.weight.dtype) && FLOAT.has(a.bias.dtype) },
  downsample_2x2: { run: downsample_2x2 },
  matmul_q4: { run: matmul_q4, when: (a) => q4KernelTakes(a.w) },
};

export function createWasmBackend(opts: WasmBackendOptions = {}): WasmBackend {
  const flavor = opts.flavor ?? (relaxedSimdAvailable() ? 'relaxed' : 'simd');
  const module = loadKernels(flavor);
  const runtime = new WasmRuntime(module, { threads: opts.threads ?? defaultThreads(), shardLimit: opts.shardLimit, flavor });
  const ref = createRefBackend();
  const native = <K extends OpName>(op: K, args: OpArgs[K]): boolean => {
    const k = NATIVE[op] as { when?: (a: OpArgs[K]) => boolean } | undefined;
    return k !== undefined && (k.when === undefined || k.when(args));
  };
  const kernels: Kernels = {};
  for (const op of Object.keys(ref.kernels) as OpName[]) {
    const fallback = ref.kernels[op] as (a: unknown) => void;
    const k = NATIVE[op] as { run: (rt: WasmRuntime, a: unknown) => void } | undefined;
    (kernels as Record<string, (a: unknown) => void>)[op] = (a) => (native(op, a as never) ? k!.run(runtime, a) : fallback(a));
  }
  return {
    name: 'wasm',
    kernels,
    threads: runtime.threads,
    flavor,
    runtime,
    supports: (op, args) => ref.supports(op, args),
    native,
    allocate: (shape: readonly number[]): F32Tensor => runtime.allocate(shape),
    adopt: <T extends Tensor>(t: T): T => runtime.adopt(t),
    close: () => runtime.close(),
  };
}
