// Golden traces: through the op hook at the run() choke point, record every op's output under
// its stable name (`llm.layers.3.attn.out`), write them as a .npz (numpy's zip of .npy arrays,
// so Python reads them with np.load), read them back, and find the first op where two traces
// diverge. This is how two backends, or this runtime and PyTorch, are compared op by op.

import { readFileSync, writeFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { setOpHook, type OpArgs } from './backend.js';
import { FormatError } from './errors.js';
import { difference } from './compare.js';
import { numel, type F32Tensor } from './tensor.js';

export type Trace = Map<string, F32Tensor>;

export interface TraceRecorder {
  readonly trace: Trace;
  /** Stop recording (the previous hook is restored). */
  stop(): Trace;
}

/** The tensor an op wrote: `out`, or `x` for the in-place rope. */
function outputOf(args: OpArgs[keyof OpArgs]): F32Tensor {
  return 'out' in args ? args.out : args.x;
}

/** Record a copy of each op's output; a name seen again gets a suffix `@2`, `@3`, ... */
export function recordTrace(keep: (name: string) => boolean = () => true): TraceRecorder {
  const trace: Trace = new Map();
  const previous = setOpHook((e) => {
    if (!keep(e.name)) return;
    const out = outputOf(e.args);
    let name = e.name;
    for (let n = 2; trace.has(name); n++) name = `${e.name}@${n}`;
    trace.set(name, { dtype: 'f32', shape: [...out.shape], data: out.data.slice() });
  });
  return {
    trace,
    stop() {
      setOpHook(previous);
      return trace;
    },
  };
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** One float32 array as a .npy file (format version 1.0, little-endian, C order). */
export function encodeNpy(t: F32Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 10 + header.length);
  return out;
}

export function decodeNpy(bytes: Uint8Array, where: string): F32Tensor {
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw new FormatError('not a .npy array', where);
  const major = bytes[6]!;
  const lenBytes = major === 1 ? 2 : 4;
  const len = major === 1 ? bytes[8]! | (bytes[9]! << 8) : new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true);
  const start = 8 + lenBytes;
  const header = new TextDecoder().decode(bytes.subarray(start, start + len));
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new FormatError(`only little-endian float32 C-order arrays are read, header ${header.trim()}`, where);
  }
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (m === null) throw new FormatError(`no shape in header ${header.trim()}`, where);
  const shape = m[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const data = bytes.slice(start + len);
  if (data.byteLength !== numel(shape) * 4) throw new FormatError(`data length does not match shape (${shape})`, where);
  return { dtype: 'f32', shape, data: new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4) };
}

export function writeNpz(path: string, trace: Trace): void {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const [name, t] of trace) files[`${name}.npy`] = [encodeNpy(t), { level: 0 }];
  writeFileSync(path, zipSync(files));
}

export function readNpz(path: string): Trace {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(path));
  } catch (e) {
    throw new FormatError(`not a readable .npz (zip) file: ${(e as Error).message}`, path);
  }
  const trace: Trace = new Map();
  for (const [file, bytes] of Object.entries(entries)) {
    if (file.endsWith('.npy')) trace.set(file.slice(0, -4), decodeNpy(bytes, `${path}: ${file}`));
  }
  return trace;
}

export interface TraceDifference {
  readonly name: string;
  /** ‖a − b‖ / ‖a‖ over the tensor (Infinity when shapes differ). */
  readonly relL2: number;
  readonly maxAbs: number;
}

/** Compare the ops both traces recorded, in `a`'s order; every op's error, the first above tol flagged. */
export function compareTraces(a: Trace, b: Trace, tolerance: number): { diffs: TraceDifference[]; firstAbove?: TraceDifference } {
  const diffs: TraceDifference[] = [];
  let firstAbove: TraceDifference | undefined;
  for (const [name, ta] of a) {
    const tb = b.get(name);
    if (tb === undefined) continue;
    const d: TraceDifference =
      ta.shape.join() === tb.shape.join() ? { name, ...difference(ta.data, tb.data) } : { name, relL2: Infinity, maxAbs: Infinity };
    diffs.push(d);
    if (firstAbove === undefined && !(d.relL2 <= tolerance)) firstAbove = d;
  }
  return firstAbove === undefined ? { diffs } : { diffs, firstAbove };
}
