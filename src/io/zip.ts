// Minimal zip reader for PyTorch checkpoints (spec/awq.md §3.2). torch.save writes every record
// STORED, may use data descriptors (local headers with sizes 0) and zip64, so the entries come
// from the central directory (PKWARE APPNOTE 4.3.12-4.3.16), never from the local headers; the
// local header is read only to find where an entry's data starts. Entries are read by byte
// range from the file descriptor: a multi-GB checkpoint is never loaded whole.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError } from '../errors.js';

export interface ZipEntry {
  readonly name: string;
  /** Uncompressed size = stored size (STORED entries only). */
  readonly size: number;
  readonly method: number;
  /** Offset of the entry's local header. */
  readonly headerOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_BYTES = 22;
/** The EOCD ends with a comment of at most 65535 bytes, so it lies in the last 65557 bytes. */
const EOCD_SEARCH = EOCD_BYTES + 0xffff;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

export class ZipFile {
  private fd: number | undefined;
  private readonly dataStarts = new Map<string, number>();

  private constructor(
    readonly path: string,
    fd: number,
    readonly size: number,
    readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {
    this.fd = fd;
  }

  static open(path: string): ZipFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new FormatError(`cannot open zip file: ${(e as Error).message}`, path);
    }
    try {
      const size = fstatSync(fd).size;
      return new ZipFile(path, fd, size, readCentralDirectory(path, fd, size));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (e === undefined) throw new FormatError(`no zip entry named '${name}'`, this.path);
    return e;
  }

  /** Absolute file offset of an entry's data (after its local header). */
  dataStart(name: string): number {
    const cached = this.dataStarts.get(name);
    if (cached !== undefined) return cached;
    const e = this.entry(name);
    if (e.method !== 0) {
      throw new FormatError(`entry '${name}' uses compression method ${e.method}; only STORED (0) entries are supported`, this.path);
    }
    const h = this.bytes(e.headerOffset, 30, `local header of '${name}'`);
    const v = new DataView(h.buffer);
    if (v.getUint32(0, true) !== LOCAL_SIG) throw new FormatError(`entry '${name}': no local header signature at offset ${e.headerOffset}`, this.path);
    // Sizes in the local header may be 0 (data descriptor, flag bit 3): only the name and extra
    // lengths are used here. The extra field holds torch's 'FB' 64-byte alignment padding.
    const start = e.headerOffset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
    if (start + e.size > this.size) {
      throw new FormatError(`entry '${name}' (${e.size} bytes at ${start}) runs past the end of the file (${this.size} bytes)`, this.path);
    }
    this.dataStarts.set(name, start);
    return start;
  }

  /** `length` bytes of an entry from `offset` within it. */
  read(name: string, offset = 0, length?: number): Uint8Array {
    const e = this.entry(name);
    const n = length ?? e.size - offset;
    if (offset < 0 || n < 0 || offset + n > e.size) {
      throw new FormatError(`read of ${n} bytes at ${offset} is outside entry '${name}' (${e.size} bytes)`, this.path);
    }
    return this.bytes(this.dataStart(name) + offset, n, `entry '${name}'`);
  }

  /** Read into `dst` (for callers that own an aligned buffer). */
  readInto(name: string, offset: number, dst: Uint8Array): void {
    const e = this.entry(name);
    if (offset < 0 || offset + dst.length > e.size) {
      throw new FormatError(`read of ${dst.length} bytes at ${offset} is outside entry '${name}' (${e.size} bytes)`, this.path);
    }
    readFully(this.path, this.openFd(), dst, this.dataStart(name) + offset, `entry '${name}'`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private openFd(): number {
    if (this.fd === undefined) throw new FormatError('zip file was closed', this.path);
    return this.fd;
  }

  private bytes(position: number, length: number, what: string): Uint8Array {
    const buf = new Uint8Array(length);
    readFully(this.path, this.openFd(), buf, position, what);
    return buf;
  }
}

function readFully(path: string, fd: number, dst: Uint8Array, position: number, what: string): void {
  let done = 0;
  while (done < dst.length) {
    const chunk = Math.min(dst.length - done, 1 << 30); // readSync reads at most 2 GiB at a time
    const got = readSync(fd, dst, done, chunk, position + done);
    if (got === 0) throw new FormatError(`file ends inside ${what} (at byte ${position + done})`, path);
    done += got;
  }
}

function readAt(path: string, fd: number, position: number, length: number, what: string): DataView {
  const buf = new Uint8Array(length);
  readFully(path, fd, buf, position, what);
  return new DataView(buf.buffer);
}

/** 64-bit little-endian as a safe integer, or a FormatError. */
function u64(path: string, v: DataView, at: number, what: string): number {
  const x = v.getBigUint64(at, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${what} ${x} is too large`, path);
  return Number(x);
}

function readCentralDirectory(path: string, fd: number, size: number): Map<string, ZipEntry> {
  if (size < EOCD_BYTES) throw new FormatError(`file of ${size} bytes is too short to be a zip archive`, path);
  // 1. EOCD: search backwards for its signature in the tail (APPNOTE 4.3.16).
  const tailLen = Math.min(size, EOCD_SEARCH);
  const tailStart = size - tailLen;
  const tail = readAt(path, fd, tailStart, tailLen, 'end of central directory');
  let eocd = -1;
  for (let p = tailLen - EOCD_BYTES; p >= 0; p--) {
    if (tail.getUint32(p, true) === EOCD_SIG && p + EOCD_BYTES + tail.getUint16(p + 20, true) <= tailLen) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw new FormatError('no end-of-central-directory record: truncated or not a zip archive', path);
  let count = tail.getUint16(eocd + 10, true);
  let cdSize = tail.getUint32(eocd + 12, true);
  let cdOffset = tail.getUint32(eocd + 16, true);
  // 2. zip64: a locator sits right before the EOCD and points at the zip64 EOCD record (4.3.14-15).
  const locator = eocd - 20;
  if (locator >= 0 && tail.getUint32(locator, true) === ZIP64_LOCATOR_SIG) {
    const recOffset = u64(path, tail, locator + 8, 'zip64 end-of-central-directory offset');
    if (recOffset + 56 > size) throw new FormatError(`zip64 end-of-central-directory offset ${recOffset} is past the end of the file`, path);
    const rec = readAt(path, fd, recOffset, 56, 'zip64 end-of-central-directory record');
    if (rec.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new FormatError(`no zip64 end-of-central-directory record at offset ${recOffset}`, path);
    // Where the 32-bit EOCD field is not the 0xFFFF.. marker it must agree with the zip64 one:
    // a disagreement means one of the two records is corrupt.
    const pick = (small: number, marker: number, at: number, what: string): number => {
      const big = u64(path, rec, at, `zip64 ${what}`);
      if (small !== marker && small !== big) {
        throw new FormatError(`end-of-central-directory ${what} ${small} disagrees with the zip64 record (${big}): corrupt archive`, path);
      }
      return big;
    };
    count = pick(count, U16_MAX, 32, 'entry count');
    cdSize = pick(cdSize, U32_MAX, 40, 'central directory size');
    cdOffset = pick(cdOffset, U32_MAX, 48, 'central directory offset');
  } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    throw new FormatError('end-of-central-directory has zip64 markers but no zip64 locator', path);
  }
  if (cdOffset + cdSize > size) {
    throw new FormatError(`central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file (${size} bytes): truncated or corrupt`, path);
  }
  // 3. Central directory file headers (4.3.12).
  const cd = readAt(path, fd, cdOffset, cdSize, 'central directory');
  const entries = new Map<string, ZipEntry>();
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cd.getUint32(p, true) !== CENTRAL_SIG) {
      throw new FormatError(`central directory entry ${i} of ${count} is missing or corrupt (at offset ${cdOffset + p})`, path);
    }
    const method = cd.getUint16(p + 10, true);
    let csize = cd.getUint32(p + 20, true);
    let usize = cd.getUint32(p + 24, true);
    const nameLen = cd.getUint16(p + 28, true);
    const extraLen = cd.getUint16(p + 30, true);
    const commentLen = cd.getUint16(p + 32, true);
    let headerOffset = cd.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) throw new FormatError(`central directory entry ${i} runs past the directory`, path);
    const name = utf8.decode(new Uint8Array(cd.buffer, p + 46, nameLen));
    // zip64 extended information (id 0x0001, 4.5.3): only the fields whose 32-bit value is
    // 0xFFFFFFFF are present, in the order usize, csize, offset.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cd.getUint16(e, true);
      const len = cd.getUint16(e + 2, true);
      if (e + 4 + len > extraEnd) throw new FormatError(`entry '${name}': extra field runs past its header`, path);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (what: string): number => {
          if (q + 8 > e + 4 + len) throw new FormatError(`entry '${name}': zip64 extra field lacks the ${what}`, path);
          const x = u64(path, cd, q, `entry '${name}' ${what}`);
          q += 8;
          return x;
        };
        if (usize === U32_MAX) usize = next('uncompressed size');
        if (csize === U32_MAX) csize = next('compressed size');
        if (headerOffset === U32_MAX) headerOffset = next('local header offset');
      }
      e += 4 + len;
    }
    if (method === 0 && csize !== usize) throw new FormatError(`STORED entry '${name}' has compressed size ${csize} ≠ size ${usize}`, path);
    if (headerOffset + 30 > cdOffset) throw new FormatError(`entry '${name}': local header offset ${headerOffset} is not before the central directory`, path);
    if (entries.has(name)) throw new FormatError(`entry '${name}' appears twice`, path);
    entries.set(name, { name, size: usize, method, headerOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
