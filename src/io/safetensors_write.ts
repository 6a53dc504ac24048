// safetensors writer: tensors sorted by name, data contiguous in that order, header padded with
// spaces to a multiple of 8 (as the Python `safetensors` package writes it), written tensor by
// tensor so that a large file never sits in memory at once.

import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { DTYPE_BYTES, numel, type DType, type Tensor } from '../tensor.js';
import { STORED_DTYPE } from './dtypes.js';


export interface TensorSpec {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export function writeSafetensors(
  path: string,
  entries: ReadonlyMap<string, { spec: TensorSpec; get: () => Tensor | 'zeros' }>,
  metadata: Record<string, string> = { format: 'pt' },
): void {
  const names = [...entries.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const { spec } = entries.get(name)!;
    const bytes = numel(spec.shape) * DTYPE_BYTES[spec.dtype];
    header[name] = { dtype: STORED_DTYPE[spec.dtype], shape: spec.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, json);
    let pos = 8 + Buffer.byteLength(json);
    for (const name of names) {
      const { spec, get } = entries.get(name)!;
      const t = get();
      if (t === 'zeros') {
        pos += numel(spec.shape) * DTYPE_BYTES[spec.dtype];
        continue;
      }
      const view = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      for (let done = 0; done < view.length; ) done += writeSync(fd, view, done, Math.min(view.length - done, 1 << 30), pos + done);
      pos += view.length;
    }
    ftruncateSync(fd, pos);
  } finally {
    closeSync(fd);
  }
}

/** Convenience: write fully materialised tensors. */
export function writeTensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): void {
  const entries = new Map(Object.entries(tensors).map(([k, t]) => [k, { spec: t, get: () => t }] as const));
  writeSafetensors(path, entries, metadata);
}

