// add, mul on the WebAssembly backend (wasm/elementwise.ts). Units are elements; out may be a or b.

import type { OpArgs } from '../backend.js';
import { OpCall } from './call.js';
import { shardFor } from './ops_shard.js';
import { expectElements, type WasmRuntime } from './runtime.js';

/** Elements per thread-range boundary (keeps each range's vectors 64-byte aligned). */
const GRAIN = 16;

function binary(rt: WasmRuntime, op: 'add' | 'mul', { out, a, b }: OpArgs['add']): void {
  const n = a.data.length;
  expectElements(op, 'b', b.data, n);
  expectElements(op, 'out', out.data, n);
  const shard = shardFor(rt, undefined, out.data);
  const call = new OpCall(shard);
  const ap = call.in(a.data);
  const bp = call.in(b.data);
  const outp = call.out(out.data);
  rt.exec(shard, `${op}_f32`, [outp, ap, bp], n, GRAIN, n);
  call.finish();
}

export function add(rt: WasmRuntime, args: OpArgs['add']): void {
  binary(rt, 'add', args);
}

export function mul(rt: WasmRuntime, args: OpArgs['mul']): void {
  binary(rt, 'mul', args);
}
