// layer_norm, rms_norm on the WebAssembly backend (wasm/norm.ts): weight and bias placed once as
// f32 in the shard of the op; units are rows; out may be x (in place).

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import type { F32Tensor, Tensor } from '../tensor.js';
import { OpCall } from './call.js';
import { placeF32 } from './ops_matmul.js';
import { shardFor } from './ops_shard.js';
import { expectElements, type WasmRuntime } from './runtime.js';

function rowsOf(op: string, x: F32Tensor, out: F32Tensor, weight: Tensor, bias?: Tensor): [number, number] {
  if (x.shape.length !== 2) throw new InputError(`${op}: x must be 2-D, got [${x.shape}]`);
  const [m, n] = x.shape as [number, number];
  expectElements(op, 'x', x.data, m * n);
  if (out.shape.length !== 2 || out.shape[0] !== m || out.shape[1] !== n) throw new InputError(`${op}: out has shape [${out.shape}], expected [${m}, ${n}]`);
  expectElements(op, 'out', out.data, m * n);
  expectElements(op, 'weight', weight.data, n);
  if (bias !== undefined) expectElements(op, 'bias', bias.data, n);
  return [m, n];
}

export function layer_norm(rt: WasmRuntime, { out, x, weight, bias, eps }: OpArgs['layer_norm']): void {
  const [m, n] = rowsOf('layer_norm', x, out, weight, bias);
  const shard = shardFor(rt, weight.data, out.data);
  const wp = placeF32(rt, weight, shard);
  const bp = placeF32(rt, bias, shard);
  const call = new OpCall(shard);
  const xp = call.in(x.data);
  const op = call.out(out.data);
  rt.exec(shard, 'layer_norm_f32', [op, xp, wp, bp, n, eps], m, 1, 8 * m * n);
  call.finish();
}

export function rms_norm(rt: WasmRuntime, { out, x, weight, eps }: OpArgs['rms_norm']): void {
  const [m, n] = rowsOf('rms_norm', x, out, weight);
  const shard = shardFor(rt, weight.data, out.data);
  const wp = placeF32(rt, weight, shard);
  const call = new OpCall(shard);
  const xp = call.in(x.data);
  const op = call.out(out.data);
  rt.exec(shard, 'rms_norm_f32', [op, xp, wp, n, eps], m, 1, 5 * m * n);
  call.finish();
}
