// Which shard an op runs on: the one holding its weight (placed before), else the one holding its
// output (an activation allocated in wasm memory), else shard 0. Inputs elsewhere are copied in.

import type { Shard } from './shard.js';
import type { WasmRuntime } from './runtime.js';

export function shardFor(rt: WasmRuntime, weight: ArrayBufferView | undefined, out: ArrayBufferView): Shard {
  return (weight === undefined ? undefined : rt.whereIs(weight)) ?? rt.whereIs(out) ?? rt.shards[0]!;
}
