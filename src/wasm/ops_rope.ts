// rope on the WebAssembly backend (wasm/rope.ts), in place on x. The cos/sin table of each row is
// built here exactly as src/ref/rope.ts builds it (f32 angle = fround(pos · inv_freq), then f32
// cos and sin), so the kernel reproduces the reference bit for bit. Units are (row, head) pairs.

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { ropeInvFreq } from '../ref/rope.js';
import { OpCall } from './call.js';
import { shardFor } from './ops_shard.js';
import type { WasmRuntime } from './runtime.js';

export function rope(rt: WasmRuntime, { x, positions, heads, headDim, theta }: OpArgs['rope']): void {
  const [m, width] = x.shape as [number, number];
  if (x.shape.length !== 2 || width !== heads * headDim || headDim % 2 !== 0 || positions.length !== m || x.data.length !== m * width) {
    throw new InputError(`rope: x is [${x.shape}], heads ${heads} × headDim ${headDim}, ${positions.length} positions`);
  }
  const half = headDim / 2;
  const inv = ropeInvFreq(headDim, theta);
  const shard = shardFor(rt, undefined, x.data);
  const call = new OpCall(shard);
  const xp = call.in(x.data);
  call.out(x.data);
  const tp = call.scratch(8 * m * half);
  const cos = shard.f32(tp, m * half);
  const sin = shard.f32(tp + 4 * m * half, m * half);
  for (let r = 0; r < m; r++) {
    const pos = positions[r]!;
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(pos * inv[j]!);
      cos[r * half + j] = Math.cos(angle);
      sin[r * half + j] = Math.sin(angle);
    }
  }
  rt.exec(shard, 'rope_f32', [xp, tp, tp + 4 * m * half, heads, headDim], m * heads, 1, 6 * m * width);
  call.finish();
}
