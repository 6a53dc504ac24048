// attention on the WebAssembly backend (wasm/attention.ts). Units are (row, head) pairs,
// numbered head-major (u = head·m + row), each with SLOT floats of scratch for its online-softmax
// state and one block of scores. Only the kvLen valid rows of the k, v caches are copied when the
// caches live outside wasm memory (caches made by the backend's allocate() are read in place).

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { OpCall } from './call.js';
import { shardFor } from './ops_shard.js';
import { expectElements, type WasmRuntime } from './runtime.js';

/** Scratch floats per unit: B + 4 with B = 64 keys per block (wasm/attention.ts). */
const SLOT = 68;

function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

export function attention(rt: WasmRuntime, args: OpArgs['attention']): void {
  const { out, q, k, v, kvLen, qStart, heads, kvHeads, headDim, causal, scale } = args;
  const [m, width] = q.shape as [number, number];
  const [capacity, kvWidth] = k.shape as [number, number];
  if (q.shape.length !== 2 || k.shape.length !== 2 || v.shape.length !== 2 || v.shape[0] !== capacity || v.shape[1] !== kvWidth) {
    throw new InputError(`attention: q [${q.shape}], k [${k.shape}], v [${v.shape}] must be 2-D with k and v alike`);
  }
  if (width !== heads * headDim || kvWidth !== kvHeads * headDim || kvHeads <= 0 || heads % kvHeads !== 0) {
    throw new InputError(`attention: q width ${width}, kv width ${kvWidth} do not fit ${heads} heads, ${kvHeads} kv heads of ${headDim}`);
  }
  if (!Number.isInteger(kvLen) || kvLen < 0 || kvLen > capacity || qStart < 0 || (causal && qStart + m > kvLen)) {
    throw new InputError(`attention: ${kvLen} valid keys for capacity ${capacity}, queries at ${qStart}..${qStart + m - 1}`);
  }
  if (out.shape.length !== 2 || out.shape[0] !== m || out.shape[1] !== width) throw new InputError(`attention: out has shape [${out.shape}], expected [${m}, ${width}]`);
  expectElements('attention', 'q', q.data, m * width);
  expectElements('attention', 'k', k.data, capacity * kvWidth);
  expectElements('attention', 'v', v.data, capacity * kvWidth);
  expectElements('attention', 'out', out.data, m * width);
  // out is the kernel's accumulator: it must not share memory with its inputs.
  const alias = (a: Float32Array): Float32Array => (overlaps(a, out.data) ? a.slice() : a);
  const valid = kvLen * kvWidth;
  const shard = shardFor(rt, undefined, out.data);
  const call = new OpCall(shard);
  const qp = call.in(alias(q.data));
  const kp = call.in(alias(k.data.subarray(0, valid)));
  const vp = call.in(alias(v.data.subarray(0, valid)));
  const op = call.out(out.data);
  const units = m * heads;
  const sp = call.scratch(4 * SLOT * units);
  const visible = causal ? qStart + (m + 1) / 2 : kvLen; // mean keys per query
  // Whole heads per thread when there are several rows; GQA groups together in decode.
  const grain = m > 1 ? m : heads / kvHeads;
  rt.exec(shard, 'attention_f32', [op, qp, kp, vp, sp, m, kvLen, qStart, heads, kvHeads, headDim, causal ? 1 : 0, scale], units, grain, 4 * units * visible * headDim);
  call.finish();
}
