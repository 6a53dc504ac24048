// Device tensors of the CUDA backend (src/cuda/tensor.ts, runtime.ts) through the host stand-in
// for the addon: host mirrors, views, uploads only when needed, int32 inputs re-uploaded when
// they change, host arrays as inputs and outputs.

import { describe, expect, it } from 'vitest';
import { run } from '../../src/backend.js';
import { createCudaBackend } from '../../src/cuda/backend.js';
import { DeviceTensor } from '../../src/cuda/tensor.js';
import { reshape, rows, zeros } from '../../src/tensor.js';
import { hostAddon } from './cuda_host_addon.js';

describe('cuda device tensors (host stand-in)', () => {
  it('host writes are uploaded before the next kernel, results downloaded on .data', () => {
    const host = hostAddon();
    const be = createCudaBackend({ addon: host });
    const a = be.allocate([2, 3]);
    const b = be.allocate([2, 3]);
    expect(a).toBeInstanceOf(DeviceTensor);
    a.data.set([1, 2, 3, 4, 5, 6]);
    b.data.set([10, 20, 30, 40, 50, 60]);
    const out = be.allocate([2, 3]);
    run(be, 'add', 't', { out, a, b });
    expect(Array.from(out.data)).toEqual([11, 22, 33, 44, 55, 66]);
    // out.data was handed out (the caller may have written it): out alone is uploaded before the
    // next kernel; a and b were uploaded before the first and not touched since.
    const before = host.stats.uploads;
    run(be, 'add', 't', { out, a: out, b });
    expect(host.stats.uploads - before).toBe(1);
    const again = host.stats.uploads;
    run(be, 'add', 't', { out, a: out, b });
    expect(host.stats.uploads - again).toBe(0);
    expect(Array.from(out.data)).toEqual([31, 62, 93, 124, 155, 186]);
  });

  it('rows() and reshape() of a device tensor stay on the device, at their offset', () => {
    const be = createCudaBackend({ addon: hostAddon() });
    const cache = be.allocate([4, 2]);
    const r = rows(cache, 1, 3);
    expect(r).toBeInstanceOf(DeviceTensor);
    const x = be.allocate([2, 2]);
    x.data.set([1, 2, 3, 4]);
    run(be, 'mul', 't', { out: r, a: x, b: x });
    expect(Array.from(cache.data)).toEqual([0, 0, 1, 4, 9, 16, 0, 0]);
    const flat = reshape(rows(cache, 2, 4), [4]);
    expect(flat).toBeInstanceOf(DeviceTensor);
    expect(Array.from(flat.data)).toEqual([9, 16, 0, 0]);
  });

  it('plain host arrays work as inputs and outputs; int32 inputs are re-uploaded when changed', () => {
    const be = createCudaBackend({ addon: hostAddon() });
    const table = { dtype: 'f32' as const, shape: [3, 2], data: Float32Array.from([0, 1, 10, 11, 20, 21]) };
    const ids = Int32Array.from([2, 0]);
    const out = zeros([2, 2]);
    run(be, 'embedding', 't', { out, table, ids });
    expect(Array.from(out.data)).toEqual([20, 21, 0, 1]);
    ids[0] = 1;
    run(be, 'embedding', 't', { out, table, ids });
    expect(Array.from(out.data)).toEqual([10, 11, 0, 1]);
  });

  it('adopt() uploads a weight once; later ops reuse it', () => {
    const host = hostAddon();
    const be = createCudaBackend({ addon: host });
    const w = { dtype: 'f32' as const, shape: [2, 2], data: Float32Array.from([1, 0, 0, 1]) };
    be.adopt(w);
    const n = host.stats.uploads;
    const x = be.allocate([1, 2]);
    const out = be.allocate([1, 2]);
    x.data.set([3, 4]);
    run(be, 'matmul', 't', { out, x, w });
    run(be, 'matmul', 't', { out, x, w });
    expect(host.stats.uploads - n).toBe(1); // x only
    expect(Array.from(out.data)).toEqual([3, 4]);
  });
});
