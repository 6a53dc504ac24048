import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { parseStateDict } from '../../src/io/pickle.js';
import { ZipFile } from '../../src/io/zip.js';

const PT = 'test/fixtures/tinychat-awq/llm/tiny-w4-g128-awq-v2.pt';

function fixturePickle(): Uint8Array {
  const z = ZipFile.open(PT);
  try {
    return z.read('tiny-w4-g128-awq-v2/data.pkl');
  } finally {
    z.close();
  }
}

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

describe('parseStateDict', () => {
  it('reads the fixture state dict: 72 tensors in file order, with the README shapes', () => {
    const sd = parseStateDict(fixturePickle(), PT);
    expect(sd.size).toBe(72);
    const keys = [...sd.keys()];
    expect(keys[0]).toBe('model.embed_tokens.weight');
    expect(keys.slice(-2)).toEqual(['model.norm.weight', 'lm_head.weight']);
    expect(sd.get('model.embed_tokens.weight')).toEqual({ storageKey: '0', storageDtype: 'f16', storageNumel: 700 * 256, offset: 0, shape: [700, 256], stride: [256, 1] });
    const p = 'model.layers.1';
    expect(sd.get(`${p}.self_attn.q_proj.qweight`)).toMatchObject({ storageDtype: 'i16', shape: [64, 256] });
    expect(sd.get(`${p}.self_attn.k_proj.qweight`)).toMatchObject({ storageDtype: 'i16', shape: [32, 256] });
    expect(sd.get(`${p}.self_attn.k_proj.scales`)).toMatchObject({ storageDtype: 'f16', shape: [8, 128] });
    expect(sd.get(`${p}.mlp.gate_proj.scaled_zeros`)).toMatchObject({ storageDtype: 'f16', shape: [8, 768] });
    expect(sd.get(`${p}.mlp.down_proj.qweight`)).toMatchObject({ storageDtype: 'i16', shape: [64, 768], stride: [768, 1] });
    expect(sd.get(`${p}.post_attention_layernorm.weight`)).toMatchObject({ storageDtype: 'f16', shape: [256] });
    expect(keys.filter((k) => k.endsWith('.qweight')).length).toBe(21);
    expect(new Set([...sd.values()].map((t) => t.storageKey)).size).toBe(72);
  });

  it('refuses GLOBAL os.system before building or calling anything', () => {
    // PROTO 2, GLOBAL 'os system', BINUNICODE 'echo pwned', TUPLE1, REDUCE, STOP
    const evil = bytes([0x80, 2], 'cos\nsystem\n', 'X', [10, 0, 0, 0], 'echo pwned', [0x85], 'R.');
    expect(() => parseStateDict(evil, 'evil.pkl')).toThrow(FormatError);
    expect(() => parseStateDict(evil, 'evil.pkl')).toThrow(/evil\.pkl.*GLOBAL 'os\.system'/);
    // refused even when it comes after a valid prefix
    const late = bytes([0x80, 2], '}', 'c__builtin__\nexec\n', 'X', [1, 0, 0, 0], '1', [0x85], 'R.');
    expect(() => parseStateDict(late, 'late.pkl')).toThrow(/__builtin__\.exec/);
    const ev = bytes([0x80, 2], 'cbuiltins\neval\n', ').');
    expect(() => parseStateDict(ev, 'x')).toThrow(/builtins\.eval/);
  });

  it('refuses an unknown opcode, naming it', () => {
    // BINFLOAT ('G') is valid pickle but not part of a state dict
    const f = bytes([0x80, 2], 'G', [0, 0, 0, 0, 0, 0, 0, 0], '.');
    expect(() => parseStateDict(f, 'f.pkl')).toThrow(/opcode 0x47 \('G'\)/);
    expect(() => parseStateDict(bytes([0x80, 2], '}'), 'x')).toThrow(/without STOP/);
  });

  it('builds OrderedDicts, tensors and parameters from a hand-written pickle', () => {
    const pkl = bytes(
      [0x80, 2], 'ccollections\nOrderedDict\n', ')R', // OrderedDict()
      '(', 'X', [1, 0, 0, 0], 'w',
      'ctorch._utils\n_rebuild_parameter\n',
      '(ctorch._utils\n_rebuild_tensor_v2\n',
      '(', '(', 'X', [7, 0, 0, 0], 'storage', 'ctorch\nFloatStorage\n', 'X', [1, 0, 0, 0], '5', 'X', [3, 0, 0, 0], 'cpu', 'K', [12], 't', 'Q',
      'K', [2], 'K', [2], 'K', [3], [0x86], 'K', [3], 'K', [1], [0x86], [0x89], 'ccollections\nOrderedDict\n)R', 'tR',
      [0x88], '}tR',
      'u', '}', 'X', [9, 0, 0, 0], '_metadata', '}', 's', 'b.',
    );
    const sd = parseStateDict(pkl, 'hand.pkl');
    expect([...sd.entries()]).toEqual([['w', { storageKey: '5', storageDtype: 'f32', storageNumel: 12, offset: 2, shape: [2, 3], stride: [3, 1] }]]);
  });
});
