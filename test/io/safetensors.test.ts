// safetensors reading: round trips through our writer, and every malformed header gives a
// FormatError naming the file and the tensor or field at fault.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { SafetensorsFile } from '../../src/io/safetensors.js';
import { writeTensors } from '../../src/io/safetensors_write.js';
import { openWeights } from '../../src/io/weights.js';

const dir = mkdtempSync(join(tmpdir(), 'vila-st-'));

/** A file with this header object and `dataBytes` bytes of data. */
function rawFile(name: string, header: unknown, dataBytes: number, headerText?: string): string {
  const json = Buffer.from(headerText ?? JSON.stringify(header));
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([head, json, Buffer.alloc(dataBytes)]));
  return path;
}

function expectFormatError(path: string, ...parts: string[]): void {
  let err: unknown;
  try {
    SafetensorsFile.open(path).close();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  const msg = (err as Error).message;
  expect(msg).toContain(path);
  for (const p of parts) expect(msg).toContain(p);
}

describe('safetensors', () => {
  it('reads back what it wrote, lazily and with the stored dtype', () => {
    const path = join(dir, 'ok.safetensors');
    const a = new Float32Array([1, -2, 3.5, 4, 5, 6]);
    const b = new Uint16Array([0x3f80, 0xc000, 0x7f80]); // bf16 1, -2, inf
    writeTensors(path, { 'b.weight': { dtype: 'bf16', shape: [3], data: b }, 'a.weight': { dtype: 'f32', shape: [2, 3], data: a } });
    const f = SafetensorsFile.open(path);
    expect(f.names().sort()).toEqual(['a.weight', 'b.weight']);
    expect(f.metadata).toEqual({ format: 'pt' });
    const ta = f.read('a.weight');
    expect(ta.dtype).toBe('f32');
    expect(ta.shape).toEqual([2, 3]);
    expect(Array.from(ta.data as Float32Array)).toEqual(Array.from(a));
    expect(Array.from(f.read('b.weight').data as Uint16Array)).toEqual(Array.from(b));
    f.close();
  });

  it('rejects a file shorter than its header length field', () => {
    const path = join(dir, 'short.safetensors');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    expectFormatError(path, 'too short');
  });

  it('rejects a header length beyond the file', () => {
    const path = join(dir, 'len.safetensors');
    const head = Buffer.alloc(16);
    head.writeBigUInt64LE(1000n);
    writeFileSync(path, head);
    expectFormatError(path, 'header length 1000');
  });

  it('rejects a header that is not JSON', () => {
    expectFormatError(rawFile('json.safetensors', null, 0, '{"a": [1,'), 'not valid UTF-8 JSON');
  });

  it('rejects an unknown dtype, naming the tensor', () => {
    expectFormatError(rawFile('dtype.safetensors', { w: { dtype: 'Q4', shape: [2], data_offsets: [0, 2] } }, 2), "tensor 'w'", 'unknown dtype');
  });

  it('rejects a byte length that does not match dtype × shape', () => {
    expectFormatError(rawFile('size.safetensors', { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, 12), "tensor 'w'", 'needs 16');
  });

  it('rejects offsets past the end of the data', () => {
    expectFormatError(rawFile('past.safetensors', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8), "tensor 'w'", 'past the end');
  });

  it('rejects overlapping tensors', () => {
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expectFormatError(rawFile('overlap.safetensors', header, 12), 'overlaps');
  });

  it('rejects holes and trailing bytes that belong to no tensor', () => {
    expectFormatError(rawFile('hole.safetensors', { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), "before tensor 'a'");
    expectFormatError(rawFile('tail.safetensors', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), 'end of the file');
  });

  it('rejects bad shapes and offsets', () => {
    expectFormatError(rawFile('shape.safetensors', { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), "tensor 'a'", 'shape');
    expectFormatError(rawFile('off.safetensors', { a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4), "tensor 'a'", 'data_offsets');
  });

  it('opens a sharded folder through its index and checks the index against the shards', () => {
    const sharded = mkdtempSync(join(tmpdir(), 'vila-shards-'));
    const t = (v: number) => ({ dtype: 'f32' as const, shape: [1], data: new Float32Array([v]) });
    writeTensors(join(sharded, 'model-00001-of-00002.safetensors'), { x: t(1) });
    writeTensors(join(sharded, 'model-00002-of-00002.safetensors'), { y: t(2) });
    const index = { metadata: { total_size: 8 }, weight_map: { x: 'model-00001-of-00002.safetensors', y: 'model-00002-of-00002.safetensors' } };
    writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify(index));
    const src = openWeights(sharded);
    expect(src.names().sort()).toEqual(['x', 'y']);
    expect((src.read('y').data as Float32Array)[0]).toBe(2);
    expect(src.fileOf('y')).toContain('00002');
    src.close();

    index.weight_map.y = 'model-00001-of-00002.safetensors';
    writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify(index));
    expect(() => openWeights(sharded)).toThrow(/lacks it/);
  });
});
