// The CUDA backend: the op interface on the GPU through the native addon (cuda/addon/, kernels in
// cuda/kernels/, one C function per op in cuda/include/vila_cuda.h). Activations made by
// allocate() stay on the device between ops (src/cuda/tensor.ts); weights are uploaded once.
// Kernel launches are asynchronous: an execution error surfaces at the next download or sync
// (VILA_CUDA_SYNC=1 synchronizes after every op so that the error names the op that caused it).

import type { Backend, Kernels, OpArgs, OpName } from '../backend.js';
import { InputError } from '../errors.js';
import { isQ4, validateQ4 } from '../quant/q4.js';
import { numel, shapeString, type F32Tensor, type Tensor } from '../tensor.js';
import { loadCuda, type CudaAddon, type CudaDevice } from './addon.js';
import { CudaRuntime, VILA_DTYPE, type Ptr } from './runtime.js';
import { DeviceTensor } from './tensor.js';

export interface CudaBackend extends Backend {
  readonly device: CudaDevice;
  readonly runtime: CudaRuntime;
  allocate(shape: readonly number[]): F32Tensor;
  /** Upload a weight now (an int4 weight's parts one by one); ops then use the device copy. */
  adopt<T extends Tensor>(t: T): T;
  /** Wait for every queued kernel (and surface its errors). */
  sync(): void;
}

const FLOAT = new Set(['f32', 'f16', 'bf16']);
const isFloat = (t: Tensor | undefined): boolean => t === undefined || FLOAT.has(t.dtype);

/** Elements of an f32 tensor without downloading a device one. */
function count(t: F32Tensor): number {
  return t instanceof DeviceTensor ? numel(t.shape) : t.data.length;
}

function expect2(op: string, arg: string, t: F32Tensor, m: number, n: number): void {
  if (t.shape.length !== 2 || t.shape[0] !== m || t.shape[1] !== n || count(t) !== m * n) {
    throw new InputError(`${op}: ${arg} has shape ${shapeString(t.shape)} (${count(t)} elements), expected [${m}, ${n}]`);
  }
}

function expectLen(op: string, arg: string, t: Tensor, n: number): void {
  const have = t instanceof DeviceTensor ? numel(t.shape) : t.data.length;
  if (have !== n) throw new InputError(`${op}: ${arg} has ${have} elements, expected ${n}`);
}

function dims(op: string, arg: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new InputError(`${op}: ${arg} must be 2-D, got ${shapeString(t.shape)}`);
  return [t.shape[0]!, t.shape[1]!];
}

/** Weight and bias in one dtype as the norm/patch kernels take them (as f32 when they differ). */
function pair(rt: CudaRuntime, w: Tensor, b: Tensor): { w: Ptr; b: Ptr; dtype: number } {
  if (w.dtype === b.dtype) return { w: rt.weight(w), b: rt.weight(b), dtype: VILA_DTYPE[w.dtype]! };
  return { w: rt.weight(w, 'f32'), b: rt.weight(b, 'f32'), dtype: VILA_DTYPE['f32']! };
}

type Impl = { [K in OpName]: (rt: CudaRuntime, a: OpArgs[K]) => void };

/** int4 weights whose buffers were checked once (a Q4Tensor's arrays are never replaced). */
const VALID_Q4 = new WeakSet<object>();

const IMPL: Impl = {
  matmul(rt, { out, x, w, bias }) {
    const [m, k] = dims('matmul', 'x', x);
    const [n, kw] = dims('matmul', 'w', w);
    if (kw !== k) throw new InputError(`matmul: x ${shapeString(x.shape)} · w ${shapeString(w.shape)}ᵀ: inner sizes differ`);
    expect2('matmul', 'x', x, m, k);
    expect2('matmul', 'out', out, m, n);
    expectLen('matmul', 'w', w, n * k);
    if (bias !== undefined) expectLen('matmul', 'bias', bias, n);
    const xp = rt.act(x);
    const wp = rt.weight(w);
    const bp = bias === undefined ? undefined : rt.weight(bias);
    const op = rt.out(out);
    const a = rt.addon;
    a.matmul(op.h, op.o, xp.h, xp.o, wp.h, wp.o, VILA_DTYPE[w.dtype]!, bp?.h ?? null, bp?.o ?? 0, VILA_DTYPE[bias?.dtype ?? 'f32']!, m, n, k);
  },

  matmul_q4(rt, { out, x, w, bias }) {
    if (!VALID_Q4.has(w)) {
      validateQ4(w, 'matmul_q4: w', InputError);
      VALID_Q4.add(w);
    }
    const [m, k] = dims('matmul_q4', 'x', x);
    const [n, kw] = w.shape;
    if (kw !== k) throw new InputError(`matmul_q4: x ${shapeString(x.shape)} · w [${w.shape}]ᵀ: inner sizes differ`);
    expect2('matmul_q4', 'x', x, m, k);
    expect2('matmul_q4', 'out', out, m, n);
    if (bias !== undefined) expectLen('matmul_q4', 'bias', bias, n);
    const xp = rt.act(x);
    const qw = rt.placed(w.qweight, 'raw', () => w.qweight);
    const sc = rt.weight(w.scales);
    const sz = rt.weight(w.scaledZeros);
    const bp = bias === undefined ? undefined : rt.weight(bias);
    const op = rt.out(out);
    const a = rt.addon;
    a.matmulQ4(op.h, op.o, xp.h, xp.o, qw, 0, sc.h, sc.o, sz.h, sz.o, VILA_DTYPE[w.scales.dtype]!, w.groupSize, bp?.h ?? null, bp?.o ?? 0, VILA_DTYPE[bias?.dtype ?? 'f32']!, m, n, k);
  },

  layer_norm(rt, { out, x, weight, bias, eps }) {
    const [m, n] = dims('layer_norm', 'x', x);
    expect2('layer_norm', 'x', x, m, n);
    expect2('layer_norm', 'out', out, m, n);
    expectLen('layer_norm', 'weight', weight, n);
    expectLen('layer_norm', 'bias', bias, n);
    const xp = rt.act(x);
    const p = pair(rt, weight, bias);
    const op = rt.out(out);
    rt.addon.layerNorm(op.h, op.o, xp.h, xp.o, p.w.h, p.w.o, p.b.h, p.b.o, p.dtype, eps, m, n);
  },

  rms_norm(rt, { out, x, weight, eps }) {
    const [m, n] = dims('rms_norm', 'x', x);
    expect2('rms_norm', 'x', x, m, n);
    expect2('rms_norm', 'out', out, m, n);
    expectLen('rms_norm', 'weight', weight, n);
    const xp = rt.act(x);
    const wp = rt.weight(weight);
    const op = rt.out(out);
    rt.addon.rmsNorm(op.h, op.o, xp.h, xp.o, wp.h, wp.o, VILA_DTYPE[weight.dtype]!, eps, m, n);
  },

  gelu_tanh: (rt, a) => unary(rt, 'gelu_tanh', a, (o, x, c) => rt.addon.geluTanh(o.h, o.o, x.h, x.o, c)),
  gelu_erf: (rt, a) => unary(rt, 'gelu_erf', a, (o, x, c) => rt.addon.geluErf(o.h, o.o, x.h, x.o, c)),
  silu_mul: (rt, { out, gate, up }) => binary(rt, 'silu_mul', out, gate, up, (o, x, y, c) => rt.addon.siluMul(o.h, o.o, x.h, x.o, y.h, y.o, c)),
  add: (rt, { out, a, b }) => binary(rt, 'add', out, a, b, (o, x, y, c) => rt.addon.add(o.h, o.o, x.h, x.o, y.h, y.o, c)),
  mul: (rt, { out, a, b }) => binary(rt, 'mul', out, a, b, (o, x, y, c) => rt.addon.mul(o.h, o.o, x.h, x.o, y.h, y.o, c)),

  rope(rt, { x, positions, heads, headDim, theta }) {
    const [m, width] = dims('rope', 'x', x);
    if (width !== heads * headDim || headDim % 2 !== 0) throw new InputError(`rope: x width ${width} is not ${heads} heads of an even ${headDim}`);
    expect2('rope', 'x', x, m, width);
    if (positions.length !== m) throw new InputError(`rope: ${positions.length} positions for ${m} rows`);
    const pp = rt.ints(positions);
    const xp = rt.act(x, true);
    rt.addon.rope(xp.h, xp.o, pp.h, pp.o, m, heads, headDim, theta);
  },

  attention(rt, { out, q, k, v, kvLen, qStart, heads, kvHeads, headDim, causal, scale }) {
    const [m, width] = dims('attention', 'q', q);
    const [capacity, kvWidth] = dims('attention', 'k', k);
    if (width !== heads * headDim || kvWidth !== kvHeads * headDim || heads % kvHeads !== 0) {
      throw new InputError(`attention: q width ${width}, kv width ${kvWidth} do not fit ${heads} heads, ${kvHeads} kv heads of ${headDim}`);
    }
    if (kvLen > capacity || kvLen < 0 || qStart < 0 || (causal && qStart + m > kvLen)) {
      throw new InputError(`attention: ${kvLen} valid keys for capacity ${capacity}, queries at ${qStart}..${qStart + m - 1}`);
    }
    expect2('attention', 'q', q, m, width);
    expect2('attention', 'k', k, capacity, kvWidth);
    expect2('attention', 'v', v, capacity, kvWidth);
    expect2('attention', 'out', out, m, width);
    const qp = rt.act(q);
    const kp = rt.act(k);
    const vp = rt.act(v);
    const op = rt.out(out);
    rt.addon.attention(op.h, op.o, qp.h, qp.o, kp.h, kp.o, vp.h, vp.o, m, kvLen, qStart, heads, kvHeads, headDim, causal ? 1 : 0, scale);
  },

  embedding(rt, { out, table, ids }) {
    const [vocab, d] = dims('embedding', 'table', table);
    expect2('embedding', 'out', out, ids.length, d);
    for (const id of ids) if (id < 0 || id >= vocab) throw new InputError(`embedding: token id ${id} outside the vocabulary of ${vocab}`);
    if (ids.length === 0) return;
    const tp = rt.weight(table);
    const ip = rt.ints(ids);
    const op = rt.out(out);
    rt.addon.embedding(op.h, op.o, tp.h, tp.o, VILA_DTYPE[table.dtype]!, ip.h, ip.o, ids.length, vocab, d);
  },

  patch_embed(rt, { out, pixels, weight, bias, patch }) {
    if (pixels.shape.length !== 3 || weight.shape.length !== 4) throw new InputError(`patch_embed: pixels must be (c,h,w) and weight (d,c,p,p)`);
    const [c, h, w] = pixels.shape as [number, number, number];
    const d = weight.shape[0]!;
    if (weight.shape[1] !== c || weight.shape[2] !== patch || weight.shape[3] !== patch) {
      throw new InputError(`patch_embed: weight has shape ${shapeString(weight.shape)}, expected [${d}, ${c}, ${patch}, ${patch}]`);
    }
    expectLen('patch_embed', 'pixels', pixels, c * h * w);
    expectLen('patch_embed', 'weight', weight, d * c * patch * patch);
    expectLen('patch_embed', 'bias', bias, d);
    expect2('patch_embed', 'out', out, Math.floor(h / patch) * Math.floor(w / patch), d);
    const pp = rt.act(pixels);
    const p = pair(rt, weight, bias);
    const op = rt.out(out);
    rt.addon.patchEmbed(op.h, op.o, pp.h, pp.o, p.w.h, p.w.o, p.b.h, p.b.o, p.dtype, c, h, w, d, patch);
  },

  downsample_2x2(rt, { out, x, grid }) {
    const [tokens, c] = dims('downsample_2x2', 'x', x);
    if (tokens !== grid * grid) throw new InputError(`downsample_2x2: x ${shapeString(x.shape)} is not a ${grid}×${grid} grid of tokens`);
    expect2('downsample_2x2', 'x', x, tokens, c);
    const half = Math.ceil(grid / 2);
    expect2('downsample_2x2', 'out', out, half * half, 4 * c);
    const xp = rt.act(x);
    const op = rt.out(out);
    rt.addon.downsample2x2(op.h, op.o, xp.h, xp.o, grid, c);
  },
};

function unary(rt: CudaRuntime, name: string, { out, x }: { out: F32Tensor; x: F32Tensor }, f: (o: Ptr, x: Ptr, c: number) => void): void {
  const n = count(x);
  if (count(out) !== n) throw new InputError(`${name}: out has ${count(out)} elements, x has ${n}`);
  if (n === 0) return;
  const xp = rt.act(x, x === out);
  const op = rt.out(out);
  f(op, xp, n);
}

function binary(rt: CudaRuntime, name: string, out: F32Tensor, a: F32Tensor, b: F32Tensor, f: (o: Ptr, a: Ptr, b: Ptr, c: number) => void): void {
  const n = count(out);
  if (count(a) !== n || count(b) !== n) throw new InputError(`${name}: out, a, b have ${n}, ${count(a)}, ${count(b)} elements`);
  if (n === 0) return;
  const ap = rt.act(a);
  const bp = rt.act(b);
  const op = rt.out(out);
  f(op, ap, bp, n);
}

/** What the kernels accept (cuda/include/vila_cuda.h, cuda/kernels/): float weights; int4 with n%4, k%64, G | k; attention sizes. */
function supports<K extends OpName>(op: K, args: OpArgs[K]): boolean {
  switch (op) {
    case 'matmul': {
      const a = args as OpArgs['matmul'];
      return isFloat(a.w) && isFloat(a.bias);
    }
    case 'matmul_q4': {
      const a = args as OpArgs['matmul_q4'];
      if (!isQ4(a.w) || !isFloat(a.bias)) return false;
      const [n, k] = a.w.shape;
      return n % 4 === 0 && k % 64 === 0 && a.w.groupSize > 0 && k % a.w.groupSize === 0 && isFloat(a.w.scales);
    }
    case 'layer_norm': {
      const a = args as OpArgs['layer_norm'];
      return isFloat(a.weight) && isFloat(a.bias);
    }
    case 'rms_norm':
      return isFloat((args as OpArgs['rms_norm']).weight);
    case 'attention': {
      // cuda/kernels/attention.cu: grid limits on rows and heads; one head's row in shared memory.
      const a = args as OpArgs['attention'];
      return a.q.shape[0]! <= 65535 && a.heads <= 65535 && a.headDim <= 4096;
    }
    case 'embedding':
      return isFloat((args as OpArgs['embedding']).table);
    case 'patch_embed': {
      const a = args as OpArgs['patch_embed'];
      return isFloat(a.weight) && isFloat(a.bias);
    }
    default:
      return op in IMPL;
  }
}

/** The CUDA backend, or BackendUnavailableError (not built, not loadable, no device). */
export function createCudaBackend(opts: { addonPath?: string; addon?: { addon: CudaAddon; device: CudaDevice } } = {}): CudaBackend {
  // `addon` injects an object with the addon's functions (tests of the marshalling without a GPU).
  const { addon, device } = opts.addon ?? loadCuda(opts.addonPath);
  const rt = new CudaRuntime(addon, device);
  const kernels: Kernels = {};
  for (const op of Object.keys(IMPL) as OpName[]) {
    const impl = IMPL[op] as (rt: CudaRuntime, a: unknown) => void;
    (kernels as Record<string, (a: unknown) => void>)[op] = (a) => {
      rt.begin(op);
      try {
        impl(rt, a);
        rt.end();
      } catch (e) {
        const err = rt.wrap(e, op);
        rt.finish();
        throw err;
      }
    };
  }
  return {
    name: 'cuda',
    kernels,
    device,
    runtime: rt,
    supports,
    allocate: (shape) => rt.allocate(shape),
    adopt<T extends Tensor>(t: T): T {
      // Uploaded now, served from the device from then on; the host array is kept as the key.
      if (isQ4(t as never)) throw new InputError('adopt() takes the parts of an int4 weight, not the Q4Tensor');
      if (FLOAT.has(t.dtype)) rt.weight(t);
      else rt.placed(t.data, 'raw', () => t.data);
      return t;
    },
    sync: () => rt.sync(),
  };
}
