// Lazy safetensors reader. The format (huggingface/safetensors, docs "format"): u64 little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, optional
// "__metadata__": {string: string}}, then the data buffer; offsets are relative to the buffer.
// Only the header is read at open; each tensor is read by byte range when asked for, so a
// multi-GB folder never has to fit in one buffer. Every header field is validated the way the
// reference Rust implementation does (known dtype, byte length = dtype size × element count,
// tensors tiling the buffer without overlaps or holes), and every error names file and tensor.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError } from '../errors.js';
import { DTYPE_BYTES, numel, shapeString, type DType, type Tensor } from '../tensor.js';
import { typedView } from './dtypes.js';

/** safetensors dtype names → ours. F8 and unsigned wide types are recognised but not loadable. */
const DTYPES: Readonly<Record<string, DType | null>> = {
  F64: 'f64',
  F32: 'f32',
  F16: 'f16',
  BF16: 'bf16',
  I64: 'i64',
  I32: 'i32',
  I16: 'i16',
  I8: 'i8',
  U8: 'u8',
  BOOL: 'bool',
  U16: null,
  U32: null,
  U64: null,
  F8_E4M3: null,
  F8_E5M2: null,
};

/** Sizes of the dtypes we recognise but cannot turn into tensors, for length validation. */
const UNLOADABLE_BYTES: Readonly<Record<string, number>> = { U16: 2, U32: 4, U64: 8, F8_E4M3: 1, F8_E5M2: 1 };

/** Headers above this size are refused before allocation (the Rust implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly name: string;
  /** The safetensors dtype string as stored (e.g. "BF16"). */
  readonly storedDtype: string;
  readonly dtype: DType | null;
  readonly shape: readonly number[];
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export class SafetensorsFile {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.fd = fd;
  }

  /** Open a file and validate its header; the data is not read. */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new FormatError(`cannot open safetensors file: ${(e as Error).message}`, path);
    }
    try {
      const { tensors, metadata } = readHeader(path, fd);
      return new SafetensorsFile(path, fd, tensors, metadata);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (t === undefined) throw new FormatError(`no tensor named '${name}'`, this.path);
    return t;
  }

  /** Read one tensor's bytes from disk into a new, aligned typed array. */
  read(name: string): Tensor {
    const info = this.info(name);
    if (info.dtype === null) {
      throw new FormatError(`tensor '${name}' has dtype ${info.storedDtype}, which this runtime cannot load`, this.path);
    }
    if (this.fd === undefined) throw new FormatError(`file was closed before reading '${name}'`, this.path);
    const bytes = new Uint8Array(info.byteLength);
    let done = 0;
    while (done < bytes.length) {
      // readSync reads at most 2 GiB at a time.
      const chunk = Math.min(bytes.length - done, 1 << 30);
      const got = readSync(this.fd, bytes, done, chunk, info.offset + done);
      if (got === 0) throw new FormatError(`file ends inside tensor '${name}'`, this.path);
      done += got;
    }
    return { dtype: info.dtype, shape: info.shape, data: typedView(info.dtype, bytes.buffer) };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}


function readExactly(path: string, fd: number, length: number, position: number, what: string): Uint8Array {
  const buf = new Uint8Array(length);
  const got = readSync(fd, buf, 0, length, position);
  if (got !== length) throw new FormatError(`file too short for its ${what} (${got} of ${length} bytes)`, path);
  return buf;
}

function readHeader(path: string, fd: number): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) throw new FormatError(`file of ${fileSize} bytes is too short to be safetensors`, path);
  const n = new DataView(readExactly(path, fd, 8, 0, 'header length').buffer).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
    throw new FormatError(`header length ${n} exceeds the file size ${fileSize} (or the ${MAX_HEADER_BYTES}-byte limit)`, path);
  }
  const headerBytes = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readExactly(path, fd, headerBytes, 8, 'header')));
  } catch (e) {
    throw new FormatError(`header is not valid UTF-8 JSON: ${(e as Error).message}`, path);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new FormatError('header is not a JSON object', path);
  }
  const dataStart = 8 + headerBytes;
  const dataLength = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(path, entry);
      continue;
    }
    tensors.set(name, parseEntry(path, name, entry, dataStart, dataLength));
  }
  checkTiling(path, [...tensors.values()], dataStart, dataLength);
  return { tensors, metadata };
}

function parseMetadata(path: string, entry: unknown): Record<string, string> {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new FormatError('__metadata__ is not an object', path);
  }
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') throw new FormatError(`__metadata__ field '${k}' is not a string`, path);
  }
  return entry as Record<string, string>;
}

function parseEntry(path: string, name: string, entry: unknown, dataStart: number, dataLength: number): TensorInfo {
  const where = `tensor '${name}'`;
  if (entry === null || typeof entry !== 'object') throw new FormatError(`${where}: entry is not an object`, path);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPES)) {
    throw new FormatError(`${where}: unknown dtype ${JSON.stringify(dtype)}`, path);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`, path);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw new FormatError(`${where}: data_offsets ${JSON.stringify(offsets)} is not [begin, end] with begin <= end`, path);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw new FormatError(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`, path);
  }
  const ours = DTYPES[dtype] ?? null;
  const elementBytes = ours === null ? UNLOADABLE_BYTES[dtype]! : DTYPE_BYTES[ours];
  const expected = numel(shape as number[]) * elementBytes;
  if (end - begin !== expected) {
    throw new FormatError(
      `${where}: ${end - begin} bytes of data, but dtype ${dtype} × shape ${shapeString(shape as number[])} needs ${expected}`,
      path,
    );
  }
  return { name, storedDtype: dtype, dtype: ours, shape: shape as number[], offset: dataStart + begin, byteLength: end - begin };
}

/** The tensors must cover the data buffer exactly: sorted by offset, each starting where the last ended. */
function checkTiling(path: string, infos: TensorInfo[], dataStart: number, dataLength: number): void {
  const sorted = [...infos].sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  let expected = dataStart;
  let prev: TensorInfo | undefined;
  for (const t of sorted) {
    if (t.offset < expected) {
      throw new FormatError(`tensor '${t.name}' overlaps tensor '${prev?.name}'`, path);
    }
    if (t.offset > expected) {
      throw new FormatError(`${t.offset - expected} bytes before tensor '${t.name}' belong to no tensor`, path);
    }
    expected = t.offset + t.byteLength;
    prev = t;
  }
  if (expected !== dataStart + dataLength) {
    throw new FormatError(`${dataStart + dataLength - expected} bytes at the end of the file belong to no tensor`, path);
  }
}
