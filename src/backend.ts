// The op interface. Every kernel of every backend (reference TypeScript, WebAssembly, CUDA)
// implements ops from this one table, with the output argument first and a shape comment on
// each argument. The model calls ops only through `run()`, the single choke point where a hook
// can trace, record goldens, compare two backends in lockstep or time each op.

import { UnsupportedOpError } from './errors.js';
import type { Q4Tensor } from './quant/q4.js';
import { zeros, type F32Tensor, type Tensor } from './tensor.js';

export interface OpArgs {
  /** out (m,n) = x (m,k) · w (n,k)ᵀ + bias (n); w and bias f32, f16 or bf16. */
  matmul: { out: F32Tensor; x: F32Tensor; w: Tensor; bias?: Tensor };
  /**
   * out (m,n) = x (m,k) · dequant(w) (n,k)ᵀ + bias (n); w int4 in the TinyChat v2 layout with its
   * own group size, dequantized as spec/awq.md §2.4 (q·s + sz rounded once to the scale dtype).
   */
  matmul_q4: { out: F32Tensor; x: F32Tensor; w: Q4Tensor; bias?: Tensor };
  /** out (m,n) = (x − mean) / sqrt(var + eps) · weight (n) + bias (n), statistics per row. */
  layer_norm: { out: F32Tensor; x: F32Tensor; weight: Tensor; bias: Tensor; eps: number };
  /** out (m,n) = x / sqrt(mean(x²) + eps) · weight (n), statistics per row. */
  rms_norm: { out: F32Tensor; x: F32Tensor; weight: Tensor; eps: number };
  /** out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elementwise (PyTorch approximate='tanh'). */
  gelu_tanh: { out: F32Tensor; x: F32Tensor };
  /** out = 0.5·x·(1 + erf(x/√2)), elementwise (PyTorch's default GELU). */
  gelu_erf: { out: F32Tensor; x: F32Tensor };
  /** out (m,n) = silu(gate (m,n)) · up (m,n). */
  silu_mul: { out: F32Tensor; gate: F32Tensor; up: F32Tensor };
  /** out = a + b, same shapes. */
  add: { out: F32Tensor; a: F32Tensor; b: F32Tensor };
  /** out = a · b, same shapes. */
  mul: { out: F32Tensor; a: F32Tensor; b: F32Tensor };
  /**
   * Rotate-half RoPE, in place on x (m, heads·headDim): row r has position positions[r].
   * cos/sin of position·θ^(−2j/headDim) (HF Llama, transformers 4.36).
   */
  rope: { x: F32Tensor; positions: Int32Array; heads: number; headDim: number; theta: number };
  /**
   * Scaled dot-product attention with grouped KV heads.
   * q (m, heads·headDim); k, v caches (capacity, kvHeads·headDim) of which rows [0, kvLen) are
   * valid; query row r sits at position qStart + r. causal: row r sees keys [0, qStart + r].
   * out (m, heads·headDim). Query head h reads KV head ⌊h / (heads / kvHeads)⌋.
   */
  attention: {
    out: F32Tensor;
    q: F32Tensor;
    k: F32Tensor;
    v: F32Tensor;
    kvLen: number;
    qStart: number;
    heads: number;
    kvHeads: number;
    headDim: number;
    causal: boolean;
    scale: number;
  };
  /** out (m,d) = table (vocab,d)[ids[r]]; table f32, f16 or bf16. */
  embedding: { out: F32Tensor; table: Tensor; ids: Int32Array };
  /**
   * Non-overlapping patch convolution (Conv2d, kernel = stride = patch, no padding):
   * pixels (c,h,w) · weight (d,c,p,p) + bias (d) → out (⌊h/p⌋·⌊w/p⌋, d), patches row-major.
   */
  patch_embed: { out: F32Tensor; pixels: F32Tensor; weight: Tensor; bias: Tensor; patch: number };
  /**
   * VILA DownSampleBlock: x (g·g, c) → out ((⌈g/2⌉)², 4c). Odd grids get a zero row at the
   * bottom and a zero column at the right; output token t = j·(g'/2) + i (column-major) holds
   * [x(2i,2j), x(2i,2j+1), x(2i+1,2j), x(2i+1,2j+1)].
   */
  downsample_2x2: { out: F32Tensor; x: F32Tensor; grid: number };
}

export type OpName = keyof OpArgs;

export const OP_NAMES: readonly OpName[] = [
  'matmul',
  'matmul_q4',
  'layer_norm',
  'rms_norm',
  'gelu_tanh',
  'gelu_erf',
  'silu_mul',
  'add',
  'mul',
  'rope',
  'attention',
  'embedding',
  'patch_embed',
  'downsample_2x2',
];

export type Kernels = { [K in OpName]?: (args: OpArgs[K]) => void };

export interface Backend {
  readonly name: string;
  readonly kernels: Kernels;
  /** Whether this backend can run `op` with these arguments (dtypes, sizes). */
  supports<K extends OpName>(op: K, args: OpArgs[K]): boolean;
  /**
   * A zero-filled f32 tensor in the backend's own memory (e.g. WebAssembly memory), so that
   * ops reading it need no copy; absent where plain JavaScript arrays are as good.
   */
  allocate?(shape: readonly number[]): F32Tensor;
  /**
   * The same weight with its data moved into the backend's own memory (read by ops without a
   * copy); the argument's array can then be dropped, so loading never holds two copies.
   */
  adopt?<T extends Tensor>(t: T): T;
}

/** A zero-filled f32 tensor, in the backend's memory where it has its own. */
export function allocate(be: Backend, shape: readonly number[]): F32Tensor {
  return be.allocate !== undefined ? be.allocate(shape) : zeros(shape);
}

/** Called after every op with its stable trace name (e.g. `llm.layers.3.attn.out`). */
export type OpHook = <K extends OpName>(event: { op: K; name: string; args: OpArgs[K]; backend: Backend; ms: number }) => void;

let hook: OpHook | undefined;

/** Install (or with undefined, remove) the hook that sees every op; returns the previous one. */
export function setOpHook(h: OpHook | undefined): OpHook | undefined {
  const prev = hook;
  hook = h;
  return prev;
}

/** The single choke point: run one op on a backend, then let the hook see it. */
export function run<K extends OpName>(backend: Backend, op: K, name: string, args: OpArgs[K]): void {
  const kernel = backend.kernels[op] as ((a: OpArgs[K]) => void) | undefined;
  if (kernel === undefined || !backend.supports(op, args)) {
    throw new UnsupportedOpError(`backend '${backend.name}' does not support op '${op}' for these arguments`, name);
  }
  if (hook === undefined) {
    kernel(args);
    return;
  }
  const t0 = performance.now();
  kernel(args);
  hook({ op, name, args, backend, ms: performance.now() - t0 });
}
