// embedding on the WebAssembly backend (wasm/embedding.ts): the table is placed once with its
// stored bytes (f32, bf16 or f16) and rows are gathered and widened in place. Units are rows.

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { OpCall } from './call.js';
import { placeRaw } from './ops_matmul.js';
import { expectElements, type WasmRuntime } from './runtime.js';

export function embedding(rt: WasmRuntime, { out, table, ids }: OpArgs['embedding']): void {
  if (table.shape.length !== 2) throw new InputError(`embedding: table must be 2-D, got [${table.shape}]`);
  const [vocab, d] = table.shape as [number, number];
  expectElements('embedding', 'table', table.data, vocab * d);
  const m = ids.length;
  if (out.shape.length !== 2 || out.shape[0] !== m || out.shape[1] !== d) throw new InputError(`embedding: out has shape [${out.shape}], expected [${m}, ${d}]`);
  expectElements('embedding', 'out', out.data, m * d);
  for (const id of ids) {
    if (id < 0 || id >= vocab) throw new InputError(`embedding: token id ${id} outside the vocabulary of ${vocab}`);
  }
  const tp = placeRaw(rt, table);
  const call = new OpCall(tp.shard);
  const ip = call.in(ids);
  const op = call.out(out.data);
  rt.exec(tp.shard, `embedding_${table.dtype}`, [op, tp.ptr, ip, d], m, 1, m * d);
  call.finish();
}
