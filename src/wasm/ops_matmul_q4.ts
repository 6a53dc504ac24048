// matmul_q4 on the WebAssembly backend (wasm/matmul_q4.ts). The packed weight is placed once as
// stored (TinyChat v2, u16); scales and scaled zeros once as f32, interleaved per row block and
// group, without the padded group rows. Each call quantizes the activation rows per block (units: rows) — to int16 in the
// SIMD128 build, int8 in the relaxed one — then runs the integer-dot kernel over row blocks of 4
// outputs (units: n/4).

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import type { Q4Tensor } from '../quant/q4.js';
import { validateQ4 } from '../quant/q4.js';
import { decodeFloats } from '../tensor.js';
import { OpCall } from './call.js';
import { placeF32 } from './ops_matmul.js';
import type { WasmRuntime } from './runtime.js';
import type { Shard } from './shard.js';

/** Group sizes the kernel takes: its activation block min(G, 128) must divide G. */
export function q4KernelTakes(w: Q4Tensor): boolean {
  return w.groupSize === 64 || (w.groupSize % 128 === 0 && w.groupSize > 0);
}

function placeQ4(rt: WasmRuntime, w: Q4Tensor): { shard: Shard; qw: number; sc: number; sz: number } {
  const [n, k] = w.shape;
  const groups = k / w.groupSize;
  const q = rt.place(w.qweight, 'raw', w.qweight.byteLength, (dst) => dst.set(new Uint8Array(w.qweight.buffer, w.qweight.byteOffset, w.qweight.byteLength)));
  // Scales and scaled zeros as f32, interleaved per row block of 4 outputs and group:
  // (n/4, groups, [s0 s1 s2 s3 z0 z1 z2 z3]), the order the kernels stream them in.
  const sc = rt.place(w.scales.data, 'f32rb', groups * n * 8, (dst) => {
    const s = new Float32Array(groups * n);
    const z = new Float32Array(groups * n);
    decodeFloats(w.scales, 0, groups * n, s);
    decodeFloats(w.scaledZeros, 0, groups * n, z);
    const out = new Float32Array(dst.buffer, dst.byteOffset, groups * n * 2);
    for (let rb = 0; rb < n / 4; rb++) {
      for (let g = 0; g < groups; g++) {
        const o = (rb * groups + g) * 8;
        for (let r = 0; r < 4; r++) {
          out[o + r] = s[g * n + rb * 4 + r]!;
          out[o + 4 + r] = z[g * n + rb * 4 + r]!;
        }
      }
    }
  }, q.shard).ptr;
  return { shard: q.shard, qw: q.ptr, sc, sz: sc + 16 };
}

export function matmul_q4(rt: WasmRuntime, { out, x, w, bias }: OpArgs['matmul_q4']): void {
  validateQ4(w, 'matmul_q4: w', InputError);
  const [m, k] = x.shape as [number, number];
  const [n, kw] = w.shape;
  if (x.shape.length !== 2 || kw !== k || out.shape[0] !== m || out.shape[1] !== n || x.data.length !== m * k || out.data.length !== m * n) {
    throw new InputError(`matmul_q4: x [${x.shape}] · w [${w.shape}]ᵀ does not fit out [${out.shape}]`);
  }
  if (bias !== undefined && bias.data.length !== n) throw new InputError(`matmul_q4: bias has ${bias.data.length} elements, expected ${n}`);
  const p = placeQ4(rt, w);
  const bp = bias === undefined ? 0 : placeF32(rt, bias, p.shard);
  const qb = Math.min(w.groupSize, 128);
  const nb = k / qb;
  const call = new OpCall(p.shard);
  const xp = call.in(x.data);
  const op = call.out(out.data);
  // SIMD128: int16 activations and i16 dot products; relaxed build: int8 and i8 dot products.
  const bits = rt.flavor === 'relaxed' ? 8 : 16;
  const xq = call.scratch((m * k * bits) / 8);
  const xd = call.scratch(m * nb * 4);
  const xs = call.scratch(m * nb * 4);
  rt.exec(p.shard, `quantize_x${bits}`, [xq, xd, xs, xp, k, qb], m, 1, 4 * m * k);
  if (m >= 2) {
    // Several rows: weights unpacked once per block into a per-thread slot (1 KiB per row block
    // of the range start), then dotted with every row; same results as the one-row kernel.
    const scr = call.scratch((n / 4) * 1024);
    rt.exec(p.shard, `matmul_q4_x${bits}_rows`, [op, xq, xd, xs, p.qw, p.sc, p.sz, bp, scr, m, k, n, w.groupSize], n / 4, 1, 2 * m * k * n);
  } else {
    rt.exec(p.shard, `matmul_q4_x${bits}`, [op, xq, xd, xs, p.qw, p.sc, p.sz, bp, m, k, n, w.groupSize], n / 4, 1, 2 * m * k * n);
  }
  call.finish();
}
