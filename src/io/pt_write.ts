// A torch.save-compatible writer for state dicts (the format TinyChat's AWQ checkpoints use,
// spec/awq.md §3.2): a zip of STORED records `<stem>/data.pkl` (pickle protocol 2: an
// OrderedDict of `torch._utils._rebuild_tensor_v2` calls whose storages are persistent ids
// ('storage', torch.<Type>Storage, key, 'cpu', numel)), `<stem>/data/<key>` (one storage per
// tensor, little-endian) and `<stem>/version` ("3"). As torch's own writer (caffe2
// inline_container.cc) every record's data starts on a 64-byte boundary, padded with an extra
// field "FB"; records and offsets past 4 GiB get zip64 fields. Tensors are produced and written
// one at a time, so a 20 GB checkpoint never sits in memory; a tensor given as `zeros` is left
// as a hole in a sparse file (its CRC is still that of its zero bytes).

import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { DTYPE_BYTES, numel, type DType, type Tensor } from '../tensor.js';
import type { TensorSpec } from './safetensors_write.js';

/** A tensor to write: its spec, and either its values or `zeros` (written as a sparse hole). */
export interface PtEntry {
  readonly spec: TensorSpec;
  readonly get: () => Tensor | 'zeros';
}

const STORAGE_TYPE: Partial<Record<DType, string>> = {
  f32: 'FloatStorage',
  f16: 'HalfStorage',
  bf16: 'BFloat16Storage',
  i32: 'IntStorage',
  i16: 'ShortStorage',
  u8: 'ByteStorage',
  i8: 'CharStorage',
};

// --- pickle (protocol 2) ------------------------------------------------------------------------

class PickleWriter {
  private readonly parts: Buffer[] = [];
  op(code: string): void {
    this.parts.push(Buffer.from(code, 'latin1'));
  }
  global(module: string, name: string): void {
    this.op(`c${module}\n${name}\n`);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    this.parts.push(Buffer.from('X', 'latin1'), len, b);
  }
  int(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`pickle int ${n}`);
    if (n < 0x80000000) {
      const b = Buffer.alloc(5);
      b.write('J', 'latin1');
      b.writeInt32LE(n, 1);
      this.parts.push(b);
      return;
    }
    // LONG1: little-endian two's complement, here 8 bytes (always positive below 2^53).
    const b = Buffer.alloc(10);
    b.write('\x8a\x08', 'latin1');
    b.writeBigInt64LE(BigInt(n), 2);
    this.parts.push(b);
  }
  tuple(items: readonly number[]): void {
    this.op('(');
    for (const i of items) this.int(i);
    this.op('t');
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d]!;
  }
  return stride;
}

/** data.pkl for tensors named in order, storage keys "0", "1", … */
function statePickle(names: readonly string[], specs: readonly TensorSpec[]): Buffer {
  const p = new PickleWriter();
  p.op('\x80\x02');
  p.global('collections', 'OrderedDict');
  p.op(')R(');
  names.forEach((name, i) => {
    const spec = specs[i]!;
    const storage = STORAGE_TYPE[spec.dtype];
    if (storage === undefined) throw new RangeError(`tensor '${name}': dtype ${spec.dtype} has no torch storage type here`);
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op('((');
    p.str('storage');
    p.global('torch', storage);
    p.str(String(i));
    p.str('cpu');
    p.int(numel(spec.shape));
    p.op('tQ'); // persistent id
    p.int(0); // storage offset
    p.tuple(spec.shape);
    p.tuple(contiguousStride(spec.shape));
    p.op('\x89'); // requires_grad False
    p.global('collections', 'OrderedDict');
    p.op(')R'); // backward hooks
    p.op('tR');
  });
  p.op('u.');
  return p.bytes();
}

// --- zip -----------------------------------------------------------------------------------------

const U32_MAX = 0xffffffff;
const ALIGN = 64;

interface Written {
  readonly name: Buffer;
  readonly offset: number;
  readonly size: number;
  readonly crc: number;
}

class ZipWriter {
  private pos = 0;
  private readonly records: Written[] = [];
  constructor(private readonly fd: number) {}

  private write(b: Uint8Array, at = this.pos): void {
    for (let done = 0; done < b.length; ) done += writeSync(this.fd, b, done, Math.min(b.length - done, 1 << 30), at + done);
    if (at === this.pos) this.pos += b.length;
  }

  /** Writes a record whose bytes come in chunks (`zeroBytes` > 0: that many zero bytes as a hole). */
  add(name: string, size: number, chunks: Iterable<Uint8Array>, zeroBytes = 0): void {
    const nameBuf = Buffer.from(name, 'utf8');
    const offset = this.pos;
    const zip64 = size >= U32_MAX || offset >= U32_MAX;
    const z64Extra = zip64 ? 20 : 0; // id, len, uncompressed, compressed
    const fixed = 30 + nameBuf.length + z64Extra;
    // Pad with an "FB" extra field (4-byte header + filler) so the data starts on a 64-byte boundary.
    const pad = (ALIGN - ((offset + fixed + 4) % ALIGN)) % ALIGN;
    const header = Buffer.alloc(fixed + 4 + pad);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(zip64 ? 45 : 20, 4); // version needed
    header.writeUInt16LE(0, 6); // flags
    header.writeUInt16LE(0, 8); // STORED
    header.writeUInt16LE(0, 10); // time
    header.writeUInt16LE(0x21, 12); // date 1980-01-01
    // crc (14) patched below
    header.writeUInt32LE(zip64 ? U32_MAX : size, 18);
    header.writeUInt32LE(zip64 ? U32_MAX : size, 22);
    header.writeUInt16LE(nameBuf.length, 26);
    header.writeUInt16LE(z64Extra + 4 + pad, 28);
    nameBuf.copy(header, 30);
    let o = 30 + nameBuf.length;
    if (zip64) {
      header.writeUInt16LE(0x0001, o);
      header.writeUInt16LE(16, o + 2);
      header.writeBigUInt64LE(BigInt(size), o + 4);
      header.writeBigUInt64LE(BigInt(size), o + 12);
      o += 20;
    }
    header.writeUInt16LE(0x4246, o); // "FB"
    header.writeUInt16LE(pad, o + 2);
    this.write(header);
    let crc = 0;
    let n = 0;
    for (const c of chunks) {
      crc = crc32(c, crc);
      this.write(c);
      n += c.length;
    }
    if (zeroBytes > 0) {
      const zero = new Uint8Array(Math.min(zeroBytes, 1 << 24));
      for (let left = zeroBytes; left > 0; left -= zero.length) crc = crc32(left >= zero.length ? zero : zero.subarray(0, left), crc);
      this.pos += zeroBytes; // a hole: the file is extended at the end
      n += zeroBytes;
    }
    if (n !== size) throw new Error(`zip record '${name}': wrote ${n} bytes, announced ${size}`);
    const crcBuf = Buffer.alloc(4);
    crcBuf.writeUInt32LE(crc >>> 0);
    this.write(crcBuf, offset + 14);
    this.records.push({ name: nameBuf, offset, size, crc: crc >>> 0 });
  }

  finish(): void {
    const cdStart = this.pos;
    for (const r of this.records) {
      const zip64 = r.size >= U32_MAX || r.offset >= U32_MAX;
      const extra = zip64 ? 28 : 0; // id, len, uncompressed, compressed, offset
      const h = Buffer.alloc(46 + r.name.length + extra);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE(zip64 ? 45 : 20, 4); // made by
      h.writeUInt16LE(zip64 ? 45 : 20, 6); // needed
      h.writeUInt16LE(0, 8);
      h.writeUInt16LE(0, 10);
      h.writeUInt16LE(0, 12);
      h.writeUInt16LE(0x21, 14);
      h.writeUInt32LE(r.crc, 16);
      h.writeUInt32LE(zip64 ? U32_MAX : r.size, 20);
      h.writeUInt32LE(zip64 ? U32_MAX : r.size, 24);
      h.writeUInt16LE(r.name.length, 28);
      h.writeUInt16LE(extra, 30);
      h.writeUInt32LE(zip64 ? U32_MAX : r.offset, 42);
      r.name.copy(h, 46);
      if (zip64) {
        const o = 46 + r.name.length;
        h.writeUInt16LE(0x0001, o);
        h.writeUInt16LE(24, o + 2);
        h.writeBigUInt64LE(BigInt(r.size), o + 4);
        h.writeBigUInt64LE(BigInt(r.size), o + 12);
        h.writeBigUInt64LE(BigInt(r.offset), o + 20);
      }
      this.write(h);
    }
    const cdSize = this.pos - cdStart;
    const count = this.records.length;
    const needs64 = cdStart >= U32_MAX || count >= 0xffff;
    if (needs64) {
      const e = Buffer.alloc(56 + 20);
      const at = this.pos;
      e.writeUInt32LE(0x06064b50, 0);
      e.writeBigUInt64LE(44n, 4);
      e.writeUInt16LE(45, 12);
      e.writeUInt16LE(45, 14);
      e.writeBigUInt64LE(BigInt(count), 24);
      e.writeBigUInt64LE(BigInt(count), 32);
      e.writeBigUInt64LE(BigInt(cdSize), 40);
      e.writeBigUInt64LE(BigInt(cdStart), 48);
      e.writeUInt32LE(0x07064b50, 56);
      e.writeBigUInt64LE(BigInt(at), 64);
      e.writeUInt32LE(1, 72);
      this.write(e);
    }
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(needs64 ? 0xffff : count, 8);
    eocd.writeUInt16LE(needs64 ? 0xffff : count, 10);
    eocd.writeUInt32LE(needs64 ? U32_MAX : cdSize, 12);
    eocd.writeUInt32LE(needs64 ? U32_MAX : cdStart, 16);
    this.write(eocd);
    ftruncateSync(this.fd, this.pos);
  }
}

/**
 * Writes `entries` (in insertion order, as a state dict keeps it) to `path` as torch.save does;
 * the record prefix is the file's stem, as for a file saved under that name.
 */
export function writeTorchStateDict(path: string, entries: ReadonlyMap<string, PtEntry>): void {
  const stem = basename(path).replace(/\.[^.]*$/, '');
  const names = [...entries.keys()];
  const specs = names.map((n) => entries.get(n)!.spec);
  const fd = openSync(path, 'w');
  try {
    const zip = new ZipWriter(fd);
    const pkl = statePickle(names, specs);
    zip.add(`${stem}/data.pkl`, pkl.length, [pkl]);
    names.forEach((name, i) => {
      const spec = specs[i]!;
      const size = numel(spec.shape) * DTYPE_BYTES[spec.dtype];
      const t = entries.get(name)!.get();
      if (t === 'zeros') zip.add(`${stem}/data/${i}`, size, [], size);
      else {
        if (t.dtype !== spec.dtype || numel(t.shape) !== numel(spec.shape)) throw new Error(`tensor '${name}': got ${t.dtype} ${t.shape}, announced ${spec.dtype} ${spec.shape}`);
        zip.add(`${stem}/data/${i}`, size, [new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]);
      }
    });
    const version = Buffer.from('3\n');
    zip.add(`${stem}/version`, version.length, [version]);
    zip.finish();
  } finally {
    closeSync(fd);
  }
}
