// gelu_tanh, gelu_erf, silu_mul on the WebAssembly backend (wasm/activation.ts). Units are
// elements; out may be the input (in place). `work` counts ~20 flops an element (one exp).

import type { OpArgs } from '../backend.js';
import { OpCall } from './call.js';
import { shardFor } from './ops_shard.js';
import { expectElements, type WasmRuntime } from './runtime.js';

const GRAIN = 16;

function unary(rt: WasmRuntime, op: 'gelu_tanh' | 'gelu_erf', { out, x }: OpArgs['gelu_tanh']): void {
  const n = x.data.length;
  expectElements(op, 'out', out.data, n);
  const shard = shardFor(rt, undefined, out.data);
  const call = new OpCall(shard);
  const xp = call.in(x.data);
  const outp = call.out(out.data);
  rt.exec(shard, `${op}_f32`, [outp, xp], n, GRAIN, 20 * n);
  call.finish();
}

export function gelu_tanh(rt: WasmRuntime, args: OpArgs['gelu_tanh']): void {
  unary(rt, 'gelu_tanh', args);
}

export function gelu_erf(rt: WasmRuntime, args: OpArgs['gelu_erf']): void {
  unary(rt, 'gelu_erf', args);
}

export function silu_mul(rt: WasmRuntime, { out, gate, up }: OpArgs['silu_mul']): void {
  const n = gate.data.length;
  expectElements('silu_mul', 'up', up.data, n);
  expectElements('silu_mul', 'out', out.data, n);
  const shard = shardFor(rt, undefined, out.data);
  const call = new OpCall(shard);
  const gp = call.in(gate.data);
  const upp = call.in(up.data);
  const op = call.out(out.data);
  rt.exec(shard, 'silu_mul_f32', [op, gp, upp], n, GRAIN, 20 * n);
  call.finish();
}
