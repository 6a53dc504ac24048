// The Node-API glue (cuda/addon/vila_addon.c) compiled with gcc against a host test double of the
// kernel library (test/fixtures/cuda/host_vila.c), so the C side of the backend is checked where
// there is no GPU: every op's arguments reach C in the header's order (buffers and byte offsets of
// views, dtype codes, sizes), data goes through upload → op → download, failures become CudaErrors
// naming the op, and bad handles or ranges are refused. Skipped where gcc or node_api.h is missing.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/backend.js';
import { createCudaBackend, type CudaBackend } from '../../src/cuda/backend.js';
import { loadCuda, type DeviceHandle } from '../../src/cuda/addon.js';
import { CudaError } from '../../src/cuda/runtime.js';
import { randomQ4 } from '../../src/quant/q4.js';
import { seededRandom } from '../../src/sampling.js';
import { rows, type Tensor } from '../../src/tensor.js';

const root = join(import.meta.dirname, '..', '..');
const napi = [join('/usr/include/node'), join(dirname(dirname(process.execPath)), 'include', 'node')].find((d) => existsSync(join(d, 'node_api.h')));
let gcc = false;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  gcc = true;
} catch {
  // no compiler: skipped below
}
const why = napi === undefined ? 'node_api.h not found' : !gcc ? 'gcc not found' : '';

function build(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'vila-glue-')), 'vila_cuda.node');
  execFileSync('gcc', ['-O1', '-fPIC', '-shared', '-std=c11', '-Wall', '-Wno-comment', '-Werror', `-I${napi}`, `-I${join(root, 'cuda/include')}`,
    '-DNODE_GYP_MODULE_NAME=vila_cuda', join(root, 'cuda/addon/vila_addon.c'), join(root, 'test/fixtures/cuda/host_vila.c'), '-o', out]);
  return out;
}

const f16 = (shape: number[]): Tensor => ({ dtype: 'f16', shape, data: new Uint16Array(shape.reduce((a, b) => a * b, 1)) });

describe.skipIf(why !== '')(`cuda addon glue against a host test double of the kernel library${why ? ` (skipped: ${why})` : ''}`, () => {
  const path = why === '' ? build() : '';
  const be: CudaBackend = why === '' ? createCudaBackend({ addonPath: path }) : (undefined as never);
  const rec = (): string => be.runtime.addon.lastError();

  it('loads, reports the device, and moves data through upload, op, download with views at byte offsets', () => {
    expect(be.device.name).toBe('host test double');
    const A = be.allocate([4, 3]);
    const B = be.allocate([4, 3]);
    A.data.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    B.data.fill(100);
    run(be, 'add', 't', { out: rows(A, 2, 4), a: rows(A, 0, 2), b: rows(B, 1, 3) });
    const m = /^add #(\d+)\+24 #(\d+)\+0 #(\d+)\+12 6$/.exec(rec());
    expect(m, rec()).not.toBeNull();
    expect(m![1]).toBe(m![2]);
    expect(m![3]).not.toBe(m![1]);
    expect(Array.from(A.data)).toEqual([1, 2, 3, 4, 5, 6, 101, 102, 103, 104, 105, 106]);
  });

  it('passes every op its arguments in the header order', () => {
    const x = be.allocate([2, 64]);
    const out = be.allocate([2, 8]);
    run(be, 'matmul', 't', { out, x, w: { dtype: 'bf16', shape: [8, 64], data: new Uint16Array(512) } });
    expect(rec()).toMatch(/^matmul #\d+\+0 #\d+\+0 #\d+\+0 2 null 0 2 8 64$/);
    run(be, 'matmul', 't', { out, x, w: f16([8, 64]), bias: { dtype: 'f32', shape: [8], data: new Float32Array(8) } });
    expect(rec()).toMatch(/^matmul #\d+\+0 #\d+\+0 #\d+\+0 1 #\d+\+0 0 2 8 64$/);
    const x2 = be.allocate([3, 128]);
    run(be, 'matmul_q4', 't', { out: be.allocate([3, 8]), x: x2, w: randomQ4(seededRandom(1), 8, 128, 64) });
    expect(rec()).toMatch(/^matmul_q4 #\d+\+0 #\d+\+0 #\d+\+0 #\d+\+0 #\d+\+0 1 64 null 0 3 8 128$/);
    run(be, 'layer_norm', 't', { out: x, x, weight: f16([64]), bias: f16([64]), eps: 1e-6 });
    expect(rec()).toMatch(/^layer_norm (#\d+)\+0 \1\+0 #\d+\+0 #\d+\+0 1 1e-06 2 64$/);
    // weight and bias in different dtypes: both uploaded as f32
    run(be, 'layer_norm', 't', { out: x, x, weight: { dtype: 'f32', shape: [64], data: new Float32Array(64) }, bias: { dtype: 'bf16', shape: [64], data: new Uint16Array(64) }, eps: 1e-5 });
    expect(rec()).toMatch(/ 0 1e-05 2 64$/);
    run(be, 'rms_norm', 't', { out: x, x, weight: { dtype: 'bf16', shape: [64], data: new Uint16Array(64) }, eps: 1e-5 });
    expect(rec()).toMatch(/^rms_norm (#\d+)\+0 \1\+0 #\d+\+0 2 1e-05 2 64$/);
    run(be, 'gelu_erf', 't', { out: rows(x, 1, 2), x: rows(x, 0, 1) });
    expect(rec()).toMatch(/^gelu_erf (#\d+)\+256 \1\+0 64$/);
    run(be, 'gelu_tanh', 't', { out: x, x });
    expect(rec()).toMatch(/^gelu_tanh (#\d+)\+0 \1\+0 128$/);
    run(be, 'silu_mul', 't', { out: x, gate: x, up: rows(x, 0, 2) });
    expect(rec()).toMatch(/^silu_mul (#\d+)\+0 \1\+0 \1\+0 128$/);
    run(be, 'rope', 't', { x: rows(x, 1, 2), positions: Int32Array.from([7]), heads: 4, headDim: 16, theta: 10000 });
    expect(rec()).toMatch(/^rope #\d+\+256 #\d+\+0 1 4 16 10000 pos0=7$/);
    const cache = be.allocate([10, 32]);
    run(be, 'attention', 't', { out: x, q: x, k: cache, v: cache, kvLen: 5, qStart: 3, heads: 4, kvHeads: 2, headDim: 16, causal: true, scale: 0.25 });
    expect(rec()).toMatch(/^attention (#\d+)\+0 \1\+0 (#\d+)\+0 \2\+0 2 5 3 4 2 16 1 0.25$/);
    run(be, 'embedding', 't', { out: x, table: f16([5, 64]), ids: Int32Array.from([3, 1]) });
    expect(rec()).toMatch(/^embedding #\d+\+0 #\d+\+0 1 #\d+\+0 2 5 64 id0=3$/);
    const pe = be.allocate([4, 16]);
    run(be, 'patch_embed', 't', { out: pe, pixels: { dtype: 'f32', shape: [3, 28, 28], data: new Float32Array(3 * 28 * 28) }, weight: f16([16, 3, 14, 14]), bias: f16([16]), patch: 14 });
    expect(rec()).toMatch(/^patch_embed #\d+\+0 #\d+\+0 #\d+\+0 #\d+\+0 1 3 28 28 16 14$/);
    run(be, 'downsample_2x2', 't', { out: be.allocate([1, 64]), x: pe, grid: 2 });
    expect(rec()).toMatch(/^downsample_2x2 #\d+\+0 #\d+\+0 2 16$/);
  });

  it('a failing kernel call is a CudaError naming the op, the C function, the status and the text', () => {
    const a = be.allocate([2]);
    let err: unknown;
    try {
      run(be, 'mul', 't', { out: a, a, b: a });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CudaError);
    expect((err as Error).message).toMatch(/CUDA op 'mul' failed: vila_mul_f32: VILA_ERR_CUDA: an injected failure/);
  });

  it('refuses freed handles, out-of-range copies, other objects as handles, missing arguments', () => {
    const { addon } = loadCuda(path);
    const h = addon.alloc(16);
    addon.free(h);
    addon.free(h); // a second free is a no-op
    expect(() => addon.upload(h, 0, new Float32Array(1))).toThrow(/has not been freed/);
    expect(() => addon.upload(addon.alloc(8), 4, new Float32Array(2))).toThrow(/bytes \[4, 12\) are outside the device buffer of 8 bytes/);
    expect(() => addon.download({} as DeviceHandle, 0, new Float32Array(1))).toThrow(/must be a device buffer handle/);
    expect(() => (addon.matmul as unknown as (...a: unknown[]) => void)(1, 2)).toThrow(/expected 13 arguments, got 2/);
    expect(addon.size(addon.alloc(24))).toBe(24);
  });
});
