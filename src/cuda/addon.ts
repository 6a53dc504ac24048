// Loading the optional native addon (build/cuda/vila_cuda.node, built by `npm run build:cuda`
// from cuda/addon/vila_addon.c and the kernel library). Three ways to be unavailable, each with
// its own message: the file was never built, it cannot be loaded (no NVIDIA driver, a library or
// Node-API version mismatch), or it loads but there is no CUDA device.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError } from '../errors.js';

/** An opaque device buffer handle (a type-tagged napi external; freed when collected). */
export type DeviceHandle = { readonly __deviceHandle: unique symbol };
type H = DeviceHandle;
type Hn = DeviceHandle | null;

/** The addon's functions, one per C function of cuda/include/vila_cuda.h (byte offsets after handles). */
export interface CudaAddon {
  readonly abiVersion: number;
  deviceCount(): number;
  deviceInfo(): { name: string; major: number; minor: number; totalMem: number };
  lastError(): string;
  alloc(bytes: number): H;
  free(h: H): void;
  size(h: H): number;
  upload(h: H, byteOffset: number, src: ArrayBufferView): void;
  download(h: H, byteOffset: number, dst: ArrayBufferView): void;
  copy(dst: H, dstOffset: number, src: H, srcOffset: number, bytes: number): void;
  memset0(h: H, byteOffset: number, bytes: number): void;
  sync(): void;
  matmul(out: H, oo: number, x: H, xo: number, w: H, wo: number, wDtype: number, bias: Hn, bo: number, biasDtype: number, m: number, n: number, k: number): void;
  matmulQ4(
    out: H, oo: number, x: H, xo: number, qweight: H, qo: number, scales: H, so: number, scaledZeros: H, zo: number,
    scaleDtype: number, groupSize: number, bias: Hn, bo: number, biasDtype: number, m: number, n: number, k: number,
  ): void;
  layerNorm(out: H, oo: number, x: H, xo: number, w: H, wo: number, b: H, bo: number, dtype: number, eps: number, m: number, n: number): void;
  rmsNorm(out: H, oo: number, x: H, xo: number, w: H, wo: number, dtype: number, eps: number, m: number, n: number): void;
  geluTanh(out: H, oo: number, x: H, xo: number, count: number): void;
  geluErf(out: H, oo: number, x: H, xo: number, count: number): void;
  siluMul(out: H, oo: number, gate: H, go: number, up: H, uo: number, count: number): void;
  add(out: H, oo: number, a: H, ao: number, b: H, bo: number, count: number): void;
  mul(out: H, oo: number, a: H, ao: number, b: H, bo: number, count: number): void;
  rope(x: H, xo: number, positions: H, po: number, m: number, heads: number, headDim: number, theta: number): void;
  attention(
    out: H, oo: number, q: H, qo: number, k: H, ko: number, v: H, vo: number,
    m: number, kvLen: number, qStart: number, heads: number, kvHeads: number, headDim: number, causal: number, scale: number,
  ): void;
  embedding(out: H, oo: number, table: H, to: number, dtype: number, ids: H, io: number, count: number, vocab: number, d: number): void;
  patchEmbed(out: H, oo: number, px: H, po: number, w: H, wo: number, b: H, bo: number, dtype: number, c: number, h: number, w_: number, d: number, patch: number): void;
  downsample2x2(out: H, oo: number, x: H, xo: number, grid: number, c: number): void;
}

export interface CudaDevice {
  name: string;
  /** Compute capability, e.g. "9.0". */
  capability: string;
  totalMem: number;
  count: number;
}

const BUILD_HINT = 'run `npm run build:cuda` on a machine with nvcc (CUDA 12 or 13) and an NVIDIA driver';

/** Where the addon is looked for: $VILA_CUDA_ADDON, else build/cuda/vila_cuda.node of this package. */
export function addonPath(): string {
  const env = process.env['VILA_CUDA_ADDON'];
  if (env !== undefined && env !== '') return resolve(env);
  // src/cuda/addon.ts and dist/cuda/addon.js are both two levels below the package root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'cuda', 'vila_cuda.node');
}

const loaded = new Map<string, { addon: CudaAddon; device: CudaDevice } | { error: string }>();

/**
 * The addon at `path` (default addonPath()) with a device, or BackendUnavailableError saying why
 * not: not built, not loadable, or no CUDA device. Cached per path.
 */
export function loadCuda(path: string = addonPath()): { addon: CudaAddon; device: CudaDevice } {
  let r = loaded.get(path);
  if (r === undefined) {
    r = tryLoad(path);
    loaded.set(path, r);
  }
  if ('error' in r) throw new BackendUnavailableError(r.error);
  return r;
}

/** Whether the CUDA backend can be created here, and if not, why (for test skip messages). */
export function cudaAvailability(path?: string): { ok: true; device: CudaDevice } | { ok: false; reason: string } {
  try {
    return { ok: true, device: loadCuda(path).device };
  } catch (e) {
    if (e instanceof BackendUnavailableError) return { ok: false, reason: e.message };
    throw e;
  }
}

function tryLoad(path: string): { addon: CudaAddon; device: CudaDevice } | { error: string } {
  if (!existsSync(path)) return { error: `the CUDA backend is not built (${path} is missing): ${BUILD_HINT}` };
  let addon: CudaAddon;
  try {
    addon = createRequire(import.meta.url)(path) as CudaAddon;
  } catch (e) {
    return { error: `the CUDA addon ${path} cannot be loaded (${(e as Error).message.split('\n')[0]}); rebuild it with \`npm run build:cuda\` for this Node and check the NVIDIA driver` };
  }
  if (addon.abiVersion !== 1) return { error: `the CUDA addon ${path} has interface version ${addon.abiVersion}, expected 1: rebuild it with \`npm run build:cuda\`` };
  let count: number;
  try {
    count = addon.deviceCount();
  } catch (e) {
    return { error: `no usable CUDA device: ${(e as Error).message}` };
  }
  if (count < 1) {
    const why = addon.lastError();
    return { error: `no CUDA device here${why ? ` (${why})` : ''}: the addon is built but the CUDA backend needs an NVIDIA GPU and driver` };
  }
  try {
    const i = addon.deviceInfo();
    return { addon, device: { name: i.name, capability: `${i.major}.${i.minor}`, totalMem: i.totalMem, count } };
  } catch (e) {
    return { error: `the CUDA device cannot be queried: ${(e as Error).message}` };
  }
}
