import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { ZipFile } from '../../src/io/zip.js';

const PT = 'test/fixtures/tinychat-awq/llm/tiny-w4-g128-awq-v2.pt';
const tmp = mkdtempSync(join(tmpdir(), 'vila-zip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ZipFile on the TinyChat fixture', () => {
  it('lists entries and sizes from the central directory (local headers carry 0: data descriptors)', () => {
    const z = ZipFile.open(PT);
    try {
      const names = z.names();
      expect(names.length).toBe(74);
      expect(names[0]).toBe('tiny-w4-g128-awq-v2/data.pkl');
      expect(z.entry('tiny-w4-g128-awq-v2/data.pkl').size).toBe(10504);
      expect(z.entry('tiny-w4-g128-awq-v2/data/0').size).toBe(358400); // fp16 [700, 256]
      expect(z.entry('tiny-w4-g128-awq-v2/data/1').size).toBe(32768); // int16 [64, 256]
      expect(new TextDecoder().decode(z.read('tiny-w4-g128-awq-v2/version')).trim()).toBe('3');
      expect(z.dataStart('tiny-w4-g128-awq-v2/data/0') % 64).toBe(0); // §3.2 alignment
      const pkl = z.read('tiny-w4-g128-awq-v2/data.pkl');
      expect(pkl[0]).toBe(0x80); // PROTO
      expect(pkl[pkl.length - 1]).toBe(0x2e); // STOP
    } finally {
      z.close();
    }
  });

  it('refuses a truncated copy', () => {
    const p = join(tmp, 'truncated.pt');
    copyFileSync(PT, p);
    truncateSync(p, 1_000_000);
    expect(() => ZipFile.open(p)).toThrow(FormatError);
    expect(() => ZipFile.open(p)).toThrow(/truncated\.pt.*end-of-central-directory/);
  });

  it('refuses a corrupted EOCD', () => {
    const bytes = readFileSync(PT);
    const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    bytes.writeUInt32LE(0x7fff0000, eocd + 16); // central directory offset far past the end
    const p = join(tmp, 'bad-eocd.pt');
    writeFileSync(p, bytes);
    expect(() => ZipFile.open(p)).toThrow(FormatError);
    expect(() => ZipFile.open(p)).toThrow(/bad-eocd\.pt.*central directory/);
  });
});

/** A one-entry zip64 archive, written byte by byte: every 32-bit size/offset is 0xFFFFFFFF. */
function zip64Archive(name: string, data: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const parts: number[] = [];
  const u16 = (x: number): void => void parts.push(x & 0xff, (x >> 8) & 0xff);
  const u32 = (x: number): void => void (u16(x & 0xffff), u16(x >>> 16));
  const u64 = (x: number): void => void (u32(x % 2 ** 32), u32(Math.floor(x / 2 ** 32)));
  // local header, sizes 0 and flag bit 3 (data descriptor), no extra
  u32(0x04034b50); u16(45); u16(8); u16(0); u16(0); u16(0); u32(0); u32(0); u32(0); u16(nameBytes.length); u16(0);
  parts.push(...nameBytes, ...data);
  // data descriptor (zip64 form)
  u32(0x08074b50); u32(0); u64(data.length); u64(data.length);
  const cdOffset = parts.length;
  u32(0x02014b50); u16(45); u16(45); u16(8); u16(0); u16(0); u16(0); u32(0);
  u32(0xffffffff); u32(0xffffffff); u16(nameBytes.length); u16(4 + 24); u16(0); u16(0); u16(0); u32(0); u32(0xffffffff);
  parts.push(...nameBytes);
  u16(0x0001); u16(24); u64(data.length); u64(data.length); u64(0);
  const cdSize = parts.length - cdOffset;
  const rec = parts.length;
  u32(0x06064b50); u64(44); u16(45); u16(45); u32(0); u32(0); u64(1); u64(1); u64(cdSize); u64(cdOffset);
  u32(0x07064b50); u32(0); u64(rec); u32(1);
  u32(0x06054b50); u16(0); u16(0); u16(0xffff); u16(0xffff); u32(0xffffffff); u32(0xffffffff); u16(0);
  return new Uint8Array(parts);
}

describe('ZipFile zip64', () => {
  it('reads sizes and offsets from the zip64 EOCD record and extra fields', () => {
    const data = new TextEncoder().encode('hello zip64');
    const p = join(tmp, 'z64.zip');
    writeFileSync(p, zip64Archive('archive/data/0', data));
    const z = ZipFile.open(p);
    try {
      expect(z.names()).toEqual(['archive/data/0']);
      expect(z.entry('archive/data/0').size).toBe(data.length);
      expect(new TextDecoder().decode(z.read('archive/data/0'))).toBe('hello zip64');
      expect(new TextDecoder().decode(z.read('archive/data/0', 6, 5))).toBe('zip64');
    } finally {
      z.close();
    }
  });

  it('refuses a compressed entry, naming it', () => {
    const bytes = zip64Archive('archive/x', new Uint8Array(4));
    const view = new DataView(bytes.buffer);
    const cd = bytes.length - 22 - 20 - 56 - (46 + 9 + 28);
    view.setUint16(cd + 10, 8, true); // deflate
    const p = join(tmp, 'deflate.zip');
    writeFileSync(p, bytes);
    const z = ZipFile.open(p);
    try {
      expect(() => z.read('archive/x')).toThrow(/archive\/x.*method 8/);
    } finally {
      z.close();
    }
  });
});

describe('ZipFile past 4 GiB (a real sparse file)', () => {
  it('reads an entry that starts past 4 GiB and a range 4.2 GiB into a 4.5 GiB entry', () => {
    // Entry "big" holds 4.5 GiB (a hole: the file is sparse), entry "tail" starts after it;
    // both need zip64 sizes and offsets. Written with positioned writes, so little disk is used.
    const p = join(tmp, 'big.zip');
    const big = 4.5 * 2 ** 30;
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    const tail = enc('bytes after four gibibytes');
    const bytes: number[] = [];
    const u16 = (x: number): void => void bytes.push(x & 0xff, (x >> 8) & 0xff);
    const u32 = (x: number): void => void (u16(x & 0xffff), u16(x >>> 16));
    const u64 = (x: number): void => void (u32(x % 2 ** 32), u32(Math.floor(x / 2 ** 32)));
    const take = (): Uint8Array => new Uint8Array(bytes.splice(0));
    const fd = openSync(p, 'w');
    try {
      const local = (name: string, size: number): Uint8Array => {
        const n = enc(name);
        u32(0x04034b50); u16(45); u16(0); u16(0); u16(0); u16(0); u32(0); u32(0xffffffff); u32(0xffffffff); u16(n.length); u16(20);
        bytes.push(...n);
        u16(0x0001); u16(16); u64(size); u64(size);
        return take();
      };
      const h1 = local('archive/data/big', big);
      writeSync(fd, h1, 0, h1.length, 0);
      const off2 = h1.length + big;
      const h2 = local('archive/data/tail', tail.length);
      writeSync(fd, h2, 0, h2.length, off2);
      writeSync(fd, tail, 0, tail.length, off2 + h2.length);
      const cdOffset = off2 + h2.length + tail.length;
      for (const [name, size, off] of [['archive/data/big', big, 0], ['archive/data/tail', tail.length, off2]] as const) {
        const n = enc(name);
        u32(0x02014b50); u16(45); u16(45); u16(0); u16(0); u16(0); u16(0); u32(0);
        u32(0xffffffff); u32(0xffffffff); u16(n.length); u16(4 + 24); u16(0); u16(0); u16(0); u32(0); u32(0xffffffff);
        bytes.push(...n);
        u16(0x0001); u16(24); u64(size); u64(size); u64(off);
      }
      const cdSize = bytes.length;
      const rec = cdOffset + cdSize;
      u32(0x06064b50); u64(44); u16(45); u16(45); u32(0); u32(0); u64(2); u64(2); u64(cdSize); u64(cdOffset);
      u32(0x07064b50); u32(0); u64(rec); u32(1);
      u32(0x06054b50); u16(0); u16(0); u16(0xffff); u16(0xffff); u32(0xffffffff); u32(0xffffffff); u16(0);
      const end = take();
      writeSync(fd, end, 0, end.length, cdOffset);
    } finally {
      closeSync(fd);
    }
    expect(statSync(p).size).toBeGreaterThan(2 ** 32);
    const z = ZipFile.open(p);
    try {
      expect(z.entry('archive/data/big').size).toBe(big);
      expect(new TextDecoder().decode(z.read('archive/data/tail'))).toBe('bytes after four gibibytes');
      expect(new TextDecoder().decode(z.read('archive/data/tail', 6, 5))).toBe('after');
      const slice = z.read('archive/data/big', Math.floor(4.2 * 2 ** 30), 4096);
      expect(slice.length).toBe(4096);
      expect(slice.every((b) => b === 0)).toBe(true);
    } finally {
      z.close();
      rmSync(p);
    }
  });
});
