// The slow LlamaTokenizer (transformers 4.36, VILA's legacy=False, and legacy=True) against
// tools/tokenizer_goldens.py: tokenize, encode (input_ids with BOS), decode with and without
// skip_special_tokens, for every test string and model, and decode of random id sequences that
// mix byte pieces, special tokens and added tokens beyond the vocabulary.

import { describe, expect, it } from 'vitest';
import { loadLlamaTokenizer, loadTokenizer } from '../../src/text/load.js';
import { MODEL_DIRS, MODEL_NAMES, Mismatches, modelGoldens, testStrings } from './goldens.js';

const strings = testStrings();

describe.each(MODEL_NAMES)('LlamaTokenizer %s', (name) => {
  const golden = modelGoldens(name);

  it('reads the special token ids from the config files', async () => {
    const tok = await loadTokenizer(MODEL_DIRS[name]);
    expect(tok.vocabSize).toBe(golden.vocab_size);
    expect(tok.bosId).toBe(golden.bos_id ?? undefined);
    expect(tok.eosId).toBe(golden.eos_id ?? undefined);
    expect(tok.unkId).toBe(golden.unk_id);
    for (const id of golden.all_special_ids) expect(tok.isSpecial(id)).toBe(true);
    expect(tok.isSpecial(golden.vocab_size - 1)).toBe(false);
  });

  describe.each([
    ['legacy=False (VILA)', false, 'hf_legacy_false'],
    ['legacy=True', true, 'hf_legacy_true'],
  ] as const)('%s', (_label, legacy, key) => {
    const cases = golden[key];

    it(`tokenizes and encodes all ${strings.length} test strings exactly`, async () => {
      const tok = await loadTokenizer(MODEL_DIRS[name], { legacy });
      const m = new Mismatches();
      strings.forEach((s, i) => {
        m.check(`string ${i} tokens`, s, cases[i]!.tokens, tok.tokenize(s));
        m.check(`string ${i} input_ids`, s, cases[i]!.ids, tok.encode(s));
      });
      m.assertNone();
    });

    it('decodes them back exactly, keeping or skipping special tokens', async () => {
      const tok = await loadTokenizer(MODEL_DIRS[name], { legacy });
      const m = new Mismatches();
      strings.forEach((s, i) => {
        const c = cases[i]!;
        m.check(`string ${i} decode`, c.ids, c.decoded, tok.decode(c.ids));
        m.check(`string ${i} decode skip`, c.ids, c.decoded_skip, tok.decode(c.ids, { skipSpecialTokens: true }));
      });
      m.assertNone();
    });
  });

  it('decodes random id sequences exactly', async () => {
    const tok = await loadTokenizer(MODEL_DIRS[name]);
    const m = new Mismatches();
    golden.decode.forEach((c, i) => {
      m.check(`sequence ${i}`, c.ids, c.hf, tok.decode(c.ids));
      m.check(`sequence ${i} skip`, c.ids, c.hf_skip, tok.decode(c.ids, { skipSpecialTokens: true }));
    });
    m.assertNone();
  });
});

describe('LlamaTokenizer behaviour spelled out (tinychat-awq, a Llama-2-style BPE)', () => {
  it('gives text after a special token no dummy prefix, as transformers legacy=False does', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    // transformers' own docstring example: "Hello <s>." → [..., "▁", "<s>", "."]
    expect(tok.tokenize('Hello <s>.')).toEqual(['▁H', 'e', 'll', 'o', '▁', '<s>', '.']);
    expect(tok.tokenize('<s>Hi')).toEqual(['<s>', 'H', 'i']);
    // ...while a space after it is kept as a real "▁" (the unk-token trick in _tokenize).
    expect(tok.tokenize('</s> x')).toEqual(['</s>', '▁', 'x']);
    expect(tok.tokenize('</s>x')).toEqual(['</s>', 'x']);
  });

  it('starts a chunk beginning with a newline with "▁" then <0x0A> (spec §5: [29871, 13, ...])', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    const ids = tok.encode('\nDescribe', { addBos: false });
    expect(ids.slice(0, 2)).toEqual([tok.pieceToId('▁'), tok.pieceToId('<0x0A>')]);
  });

  it('encodes the empty string as BOS alone, and honours addBos: false', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    expect(tok.encode('')).toEqual([1]);
    expect(tok.encode('', { addBos: false })).toEqual([]);
    expect(tok.encode('a', { addBos: false })[0]).not.toBe(1);
  });

  it('round-trips text through encode and decode(skipSpecialTokens)', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    const texts = ['Hello  there!\nThe 2 licenses cost 19 €, naïve 🙂', '  two leading', 'x\ty\n\nz ', '你好 🇫🇷'];
    for (const s of texts) {
      expect(tok.decode(tok.encode(s), { skipSpecialTokens: true })).toBe(s);
    }
    expect(tok.decode(tok.encode('Hi'))).toBe('<s> Hi');
  });

  it('maps ids and pieces both ways, and rejects ids outside the vocabulary', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    expect(tok.idToPiece(1)).toBe('<s>');
    expect(tok.pieceToId('<0xE2>')).toBe(tok.encode('€', { addBos: false })[1]);
    expect(tok.pieceToId('no such piece')).toBeUndefined();
    expect(() => tok.decode([tok.vocabSize])).toThrow(/out of range/);
    expect(tok.size).toBe(tok.vocabSize); // no added tokens past the vocabulary
  });

  it('adds run-time special tokens after the vocabulary (VILA builder.py add_tokens)', async () => {
    const tok = await loadLlamaTokenizer(MODEL_DIRS['tinychat-awq'], { extraSpecialTokens: ['<im_patch>'] });
    const id = tok.pieceToId('<im_patch>');
    expect(id).toBe(tok.vocabSize);
    expect(tok.size).toBe(tok.vocabSize + 1); // len(get_vocab())
    expect(tok.idToPiece(tok.size - 1)).toBe('<im_patch>');
    expect(tok.isSpecial(id!)).toBe(true);
    expect(tok.encode('a<im_patch>b')).toContain(id);
    expect(tok.decode(tok.encode('a<im_patch>b'), { skipSpecialTokens: true })).toBe('ab');
  });
});
