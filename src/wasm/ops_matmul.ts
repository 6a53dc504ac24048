// matmul on the WebAssembly backend: the weight is placed once in wasm memory in its stored
// dtype (f32, bf16, f16 bits); the bias once as f32. Work units are output columns.

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { decodeFloats, type Tensor } from '../tensor.js';
import { OpCall } from './call.js';
import { rawBytes, type WasmRuntime } from './runtime.js';
import type { Shard } from './shard.js';

/** A small float vector (bias, norm weight) placed as f32 in `shard`. */
export function placeF32(rt: WasmRuntime, t: Tensor, shard: Shard): number {
  const n = t.data.length;
  return rt.place(t.data, 'f32', n * 4, (dst) => decodeFloats(t, 0, n, new Float32Array(dst.buffer, dst.byteOffset, n)), shard).ptr;
}

/** A weight placed with its bytes as stored. */
export function placeRaw(rt: WasmRuntime, t: Tensor, shard?: Shard): { shard: Shard; ptr: number } {
  const b = rawBytes(t);
  return rt.place(t.data, 'raw', b.byteLength, (dst) => dst.set(b), shard);
}

/** wasm/matmul.ts KC: 16-bit weights are widened to f32 in k blocks of this many columns. */
const MATMUL_KC = 512;

/**
 * Run the matmul kernel for a weight of dtype `dtype` already placed at `w` in `call`'s shard:
 * out (m,n) = x (m,k) · w (n,k)ᵀ + bias, pointers in that shard; scratch for the widened
 * weight panels comes from the call.
 */
export function execMatmul(rt: WasmRuntime, call: OpCall, dtype: string, out: number, x: number, w: number, bias: number, m: number, k: number, n: number): void {
  const scr = dtype !== 'f32' && m > 4 ? call.scratch(n * MATMUL_KC * 4) : 0;
  rt.exec(call.shard, `matmul_${dtype}`, [out, x, w, bias, scr, m, k, n], n, 12, 2 * m * k * n);
}

export function matmul(rt: WasmRuntime, { out, x, w, bias }: OpArgs['matmul']): void {
  const [m, k] = x.shape as [number, number];
  const n = w.shape[0]!;
  if (x.shape.length !== 2 || w.shape.length !== 2 || w.shape[1] !== k || out.shape[0] !== m || out.shape[1] !== n || out.data.length !== m * n) {
    throw new InputError(`matmul: x [${x.shape}] · w [${w.shape}]ᵀ does not fit out [${out.shape}]`);
  }
  if (w.data.length !== n * k || x.data.length !== m * k) throw new InputError(`matmul: x or w data does not match its shape`);
  const wp = placeRaw(rt, w);
  const bp = bias === undefined ? 0 : placeF32(rt, bias, wp.shard);
  const call = new OpCall(wp.shard);
  const xp = call.in(x.data);
  const op = call.out(out.data);
  execMatmul(rt, call, w.dtype, op, xp, wp.ptr, bp, m, k, n);
  call.finish();
}
