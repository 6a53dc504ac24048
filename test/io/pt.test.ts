import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, WeightError } from '../../src/errors.js';
import { openPt } from '../../src/io/pt.js';
import { openWeights, type WeightSource } from '../../src/io/weights.js';
import { WeightBinder } from '../../src/model/binder.js';

const PT = 'test/fixtures/tinychat-awq/llm/tiny-w4-g128-awq-v2.pt';
const tmp = mkdtempSync(join(tmpdir(), 'vila-pt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A plain (non-zip64) archive of STORED entries, local header sizes filled in. */
function zipStored(entries: [string, Uint8Array][]): Uint8Array {
  const out: number[] = [];
  const u16 = (a: number[], x: number): void => void a.push(x & 0xff, (x >> 8) & 0xff);
  const u32 = (a: number[], x: number): void => void (u16(a, x & 0xffff), u16(a, x >>> 16));
  const cd: number[] = [];
  for (const [name, data] of entries) {
    const nb = [...new TextEncoder().encode(name)];
    const off = out.length;
    u32(out, 0x04034b50); u16(out, 20); u16(out, 0); u16(out, 0); u16(out, 0); u16(out, 0); u32(out, 0);
    u32(out, data.length); u32(out, data.length); u16(out, nb.length); u16(out, 0);
    out.push(...nb, ...data);
    u32(cd, 0x02014b50); u16(cd, 20); u16(cd, 20); u16(cd, 0); u16(cd, 0); u16(cd, 0); u16(cd, 0); u32(cd, 0);
    u32(cd, data.length); u32(cd, data.length); u16(cd, nb.length); u16(cd, 0); u16(cd, 0); u16(cd, 0); u16(cd, 0); u32(cd, 0); u32(cd, off);
    cd.push(...nb);
  }
  const cdOffset = out.length;
  out.push(...cd);
  u32(out, 0x06054b50); u16(out, 0); u16(out, 0); u16(out, entries.length); u16(out, entries.length); u32(out, cd.length); u32(out, cdOffset); u16(out, 0);
  return new Uint8Array(out);
}

const enc = (...parts: (string | number[])[]): number[] => parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p));
const str = (s: string): number[] => enc('X', [s.length, 0, 0, 0], s);

/** A state dict {name: FloatStorage '0' (6 floats) viewed at `offset` with shape/stride 2-d}. */
function statePickle(name: string, offset: number, shape: [number, number], stride: [number, number]): Uint8Array {
  return new Uint8Array(enc(
    [0x80, 2], 'ccollections\nOrderedDict\n)R(', str(name),
    'ctorch._utils\n_rebuild_tensor_v2\n(', '(', str('storage'), 'ctorch\nFloatStorage\n', str('0'), str('cpu'), 'K', [6], 'tQ',
    'K', [offset], 'K', [shape[0]], 'K', [shape[1]], [0x86], 'K', [stride[0]], 'K', [stride[1]], [0x86], [0x89], 'ccollections\nOrderedDict\n)R', 'tR',
    'u.',
  ));
}

function writePt(file: string, pkl: Uint8Array): string {
  const data = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
  const p = join(tmp, file);
  writeFileSync(p, zipStored([['archive/data.pkl', pkl], ['archive/data/0', data], ['archive/version', new TextEncoder().encode('3\n')]]));
  return p;
}

describe('openPt', () => {
  it('serves the fixture: dtypes i16/f16 mapped, tensors read by range', () => {
    const src = openPt(PT);
    try {
      expect(src.names().length).toBe(72);
      const q = src.info('model.layers.0.self_attn.q_proj.qweight');
      expect([q.dtype, q.storedDtype, q.shape, q.byteLength]).toEqual(['i16', 'I16', [64, 256], 64 * 256 * 2]);
      expect(q.offset % 64).toBe(0);
      const n = src.read('model.norm.weight');
      expect([n.dtype, n.shape, n.data.length]).toEqual(['f16', [256], 256]);
      expect(src.fileOf('model.norm.weight')).toBe(PT);
    } finally {
      src.close();
    }
  });

  it('reads a contiguous view at an element offset into a larger storage', () => {
    const src = openPt(writePt('view.pt', statePickle('w', 2, [2, 2], [2, 1])));
    try {
      const t = src.read('w');
      expect(t.dtype).toBe('f32');
      expect(Array.from(t.data as Float32Array)).toEqual([2, 3, 4, 5]);
    } finally {
      src.close();
    }
  });

  it('refuses a non-contiguous tensor and a view past its storage, naming the tensor', () => {
    const t = writePt('transposed.pt', statePickle('wt', 0, [2, 3], [1, 2]));
    expect(() => openPt(t)).toThrow(FormatError);
    expect(() => openPt(t)).toThrow(/transposed\.pt.*'wt'.*not contiguous/);
    expect(() => openPt(writePt('past.pt', statePickle('w', 4, [2, 2], [2, 1])))).toThrow(/'w'.*outside its storage/);
  });
});

describe('WeightBinder.takeLinear over the fixture', () => {
  const hide = (src: WeightSource, gone: string): WeightSource => ({ ...src, names: () => src.names().filter((n) => n !== gone), has: (n) => n !== gone && src.has(n) });
  const base = 'model.layers.0.mlp.down_proj';

  it('builds a Q4Tensor, and names a missing scaled_zeros', () => {
    const src = openPt(PT);
    try {
      const w = new WeightBinder(src).takeLinear(base, 256, 768, 128);
      expect(w.dtype).toBe('q4');
      expect(() => new WeightBinder(hide(src, `${base}.scaled_zeros`)).takeLinear(base, 256, 768, 128)).toThrow(/missing tensor 'model\.layers\.0\.mlp\.down_proj\.scaled_zeros'/);
    } finally {
      src.close();
    }
  });

  it('checks the group size against k and the padded scale rows', () => {
    const src = openPt(PT);
    try {
      expect(() => new WeightBinder(src).takeLinear(base, 256, 768, 512)).toThrow(WeightError);
      expect(() => new WeightBinder(src).takeLinear(base, 256, 768, 512)).toThrow(/group size 512 does not divide k = 768/);
      // G = 64 divides k but needs 16 scale rows; the file has 8
      expect(() => new WeightBinder(src).takeLinear(base, 256, 768, 64)).toThrow(/down_proj\.scales' has shape \[8, 256\], expected \[16, 256\]/);
    } finally {
      src.close();
    }
  });
});

describe('openWeights over torch files', () => {
  const folder = (name: string, files: Record<string, Uint8Array | string>): string => {
    const d = join(tmp, name);
    mkdirSync(d);
    for (const [f, data] of Object.entries(files)) writeFileSync(join(d, f), data);
    return d;
  };
  const pkl = (name: string): Uint8Array => readFileSync(writePt(`${name}.tmp.pt`, statePickle(name, 0, [2, 3], [3, 1])));

  it('reads sharded pytorch_model-*.bin through pytorch_model.bin.index.json, and never opens training_args.bin', () => {
    const index = { metadata: {}, weight_map: { a: 'pytorch_model-00001-of-00002.bin', b: 'pytorch_model-00002-of-00002.bin' } };
    const d = folder('bin-sharded', {
      'pytorch_model-00001-of-00002.bin': pkl('a'),
      'pytorch_model-00002-of-00002.bin': pkl('b'),
      'pytorch_model.bin.index.json': JSON.stringify(index),
      'training_args.bin': 'not a state dict',
    });
    const src = openWeights(d);
    try {
      expect(src.names().sort()).toEqual(['a', 'b']);
      expect(Array.from(src.read('b').data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(src.fileOf('b')).toBe(join(d, 'pytorch_model-00002-of-00002.bin'));
    } finally {
      src.close();
    }
    writeFileSync(join(d, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: { a: 'pytorch_model-00002-of-00002.bin' } }));
    expect(() => openWeights(d)).toThrow(/index places tensor 'a' in this shard, which lacks it/);
  });

  it('reads a single pytorch_model.bin, and several *.pt files as one source', () => {
    const single = openWeights(folder('bin-single', { 'pytorch_model.bin': pkl('w'), 'training_args.bin': 'x' }));
    expect(single.names()).toEqual(['w']);
    single.close();
    const two = openWeights(folder('pt-two', { 'part1.pt': pkl('x'), 'part2.pt': pkl('y') }));
    expect(two.names().sort()).toEqual(['x', 'y']);
    two.close();
    const d = folder('pt-dup', { 'one.pt': pkl('z'), 'two.pt': pkl('z') });
    expect(() => openWeights(d)).toThrow(FormatError);
    expect(() => openWeights(d)).toThrow(/tensor 'z' is also in .*one\.pt/);
  });

  it('names what it looked for in a folder with no weights', () => {
    expect(() => openWeights(folder('empty', { 'training_args.bin': 'x' }))).toThrow(/no model\.safetensors.*pytorch_model\.bin or \*\.pt file/);
  });
});
