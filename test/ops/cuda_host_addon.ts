// A host stand-in for the CUDA addon, for tests of the CUDA backend's TypeScript side without a
// GPU: "device buffers" are ArrayBuffers and each op runs the reference kernel on views of them.
// It checks what the GPU run cannot easily isolate: handles and byte offsets (KV-cache row views),
// host mirrors and their uploads/downloads, scratch for host arrays, weights uploaded once, dtype
// codes. It is not a kernel implementation and never runs outside tests.

import type { CudaAddon, CudaDevice, DeviceHandle } from '../../src/cuda/addon.js';
import { createRefBackend } from '../../src/ref/index.js';
import type { F32Tensor, Tensor } from '../../src/tensor.js';
import { paddedGroups, type Q4Tensor } from '../../src/quant/q4.js';

interface Buf {
  bytes: ArrayBuffer;
  freed: boolean;
}

const DT = ['f32', 'f16', 'bf16'] as const;
const ref = createRefBackend().kernels;

export interface HostAddonStats {
  uploads: number;
  downloads: number;
  uploadBytes: number;
  allocs: number;
}

export function hostAddon(): { addon: CudaAddon; device: CudaDevice; stats: HostAddonStats } {
  const stats: HostAddonStats = { uploads: 0, downloads: 0, uploadBytes: 0, allocs: 0 };
  const buf = (h: DeviceHandle): Buf => {
    const b = h as unknown as Buf;
    if (b.freed) throw Object.assign(new Error('use of a freed buffer'), { code: 'VILA_ERR_ARG' });
    return b;
  };
  const f32 = (h: DeviceHandle, o: number, shape: number[]): F32Tensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (o % 4 !== 0 || o + 4 * n > buf(h).bytes.byteLength) throw Object.assign(new Error(`f32 view [${o}, +${4 * n}) out of range`), { code: 'VILA_ERR_ARG' });
    return { dtype: 'f32', shape, data: new Float32Array(buf(h).bytes, o, n) };
  };
  const any = (h: DeviceHandle, o: number, dt: number, shape: number[]): Tensor => {
    if (dt === 0) return f32(h, o, shape);
    const n = shape.reduce((a, b) => a * b, 1);
    return { dtype: DT[dt]!, shape, data: new Uint16Array(buf(h).bytes, o, n) };
  };
  const addon: CudaAddon = {
    abiVersion: 1,
    deviceCount: () => 1,
    deviceInfo: () => ({ name: 'host stand-in', major: 0, minor: 0, totalMem: 0 }),
    lastError: () => '',
    alloc: (bytes) => {
      stats.allocs++;
      return { bytes: new ArrayBuffer(Math.max(bytes, 1)), freed: false } as unknown as DeviceHandle;
    },
    free: (h) => {
      (h as unknown as Buf).freed = true;
    },
    size: (h) => buf(h).bytes.byteLength,
    upload: (h, o, src) => {
      stats.uploads++;
      stats.uploadBytes += src.byteLength;
      new Uint8Array(buf(h).bytes, o, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    },
    download: (h, o, dst) => {
      stats.downloads++;
      new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(new Uint8Array(buf(h).bytes, o, dst.byteLength));
    },
    copy: (d, doff, s, soff, n) => new Uint8Array(buf(d).bytes, doff, n).set(new Uint8Array(buf(s).bytes, soff, n)),
    memset0: (h, o, n) => new Uint8Array(buf(h).bytes, o, n).fill(0),
    sync: () => undefined,
    matmul: (out, oo, x, xo, w, wo, wd, b, bo, bd, m, n, k) =>
      ref.matmul!({ out: f32(out, oo, [m, n]), x: f32(x, xo, [m, k]), w: any(w, wo, wd, [n, k]), bias: b === null ? undefined : any(b, bo, bd, [n]) }),
    matmulQ4: (out, oo, x, xo, qw, qo, sc, so, sz, zo, sd, g, b, bo, bd, m, n, k) => {
      const gp = paddedGroups(k, g);
      const w: Q4Tensor = {
        dtype: 'q4',
        shape: [n, k],
        groupSize: g,
        qweight: new Uint16Array(buf(qw).bytes, qo, (n / 4) * k),
        scales: any(sc, so, sd, [gp, n]) as Q4Tensor['scales'],
        scaledZeros: any(sz, zo, sd, [gp, n]) as Q4Tensor['scaledZeros'],
      };
      ref.matmul_q4!({ out: f32(out, oo, [m, n]), x: f32(x, xo, [m, k]), w, bias: b === null ? undefined : any(b, bo, bd, [n]) });
    },
    layerNorm: (out, oo, x, xo, w, wo, b, bo, dt, eps, m, n) =>
      ref.layer_norm!({ out: f32(out, oo, [m, n]), x: f32(x, xo, [m, n]), weight: any(w, wo, dt, [n]), bias: any(b, bo, dt, [n]), eps }),
    rmsNorm: (out, oo, x, xo, w, wo, dt, eps, m, n) => ref.rms_norm!({ out: f32(out, oo, [m, n]), x: f32(x, xo, [m, n]), weight: any(w, wo, dt, [n]), eps }),
    geluTanh: (out, oo, x, xo, c) => ref.gelu_tanh!({ out: f32(out, oo, [c]), x: f32(x, xo, [c]) }),
    geluErf: (out, oo, x, xo, c) => ref.gelu_erf!({ out: f32(out, oo, [c]), x: f32(x, xo, [c]) }),
    siluMul: (out, oo, g, go, u, uo, c) => ref.silu_mul!({ out: f32(out, oo, [c]), gate: f32(g, go, [c]), up: f32(u, uo, [c]) }),
    add: (out, oo, a, ao, b, bo, c) => ref.add!({ out: f32(out, oo, [c]), a: f32(a, ao, [c]), b: f32(b, bo, [c]) }),
    mul: (out, oo, a, ao, b, bo, c) => ref.mul!({ out: f32(out, oo, [c]), a: f32(a, ao, [c]), b: f32(b, bo, [c]) }),
    rope: (x, xo, p, po, m, heads, headDim, theta) =>
      ref.rope!({ x: f32(x, xo, [m, heads * headDim]), positions: new Int32Array(buf(p).bytes, po, m), heads, headDim, theta }),
    attention: (out, oo, q, qo, k, ko, v, vo, m, kvLen, qStart, heads, kvHeads, headDim, causal, scale) => {
      const kw = kvHeads * headDim;
      // The kernel reads rows [0, kvLen) only: give the reference exactly those.
      ref.attention!({
        out: f32(out, oo, [m, heads * headDim]), q: f32(q, qo, [m, heads * headDim]), k: f32(k, ko, [kvLen, kw]), v: f32(v, vo, [kvLen, kw]),
        kvLen, qStart, heads, kvHeads, headDim, causal: causal === 1, scale,
      });
    },
    embedding: (out, oo, t, to, dt, ids, io, count, vocab, d) =>
      ref.embedding!({ out: f32(out, oo, [count, d]), table: any(t, to, dt, [vocab, d]), ids: new Int32Array(buf(ids).bytes, io, count) }),
    patchEmbed: (out, oo, px, po, w, wo, b, bo, dt, c, h, w_, d, p) =>
      ref.patch_embed!({
        out: f32(out, oo, [Math.floor(h / p) * Math.floor(w_ / p), d]), pixels: f32(px, po, [c, h, w_]), weight: any(w, wo, dt, [d, c, p, p]), bias: any(b, bo, dt, [d]), patch: p,
      }),
    downsample2x2: (out, oo, x, xo, grid, c) => {
      const half = Math.ceil(grid / 2);
      ref.downsample_2x2!({ out: f32(out, oo, [half * half, 4 * c]), x: f32(x, xo, [grid * grid, c]), grid });
    },
  };
  return { addon, device: { name: 'host stand-in', capability: '0.0', totalMem: 0, count: 1 }, stats };
}
