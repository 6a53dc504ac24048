// The SentencePiece processor against Google's C++ library (Python sentencepiece 0.1.97): every
// test string encoded to pieces and ids, decoded back, and random id sequences decoded (byte
// pieces in any order, control and unknown ids), for the Llama-style fixture tokenizer and three
// models trained with spm_train (BPE + byte fallback, BPE without it, Unigram + nmt_nfkc).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SentencePieceProcessor } from '../../src/text/sentencepiece.js';
import { readSentencePieceModel } from '../../src/text/sentencepiece_model.js';
import { MODEL_DIRS, MODEL_NAMES, Mismatches, modelGoldens, testStrings } from './goldens.js';

const strings = testStrings();

describe.each(MODEL_NAMES)('SentencePiece %s', (name) => {
  const golden = modelGoldens(name);

  async function processor(): Promise<SentencePieceProcessor> {
    const file = join(MODEL_DIRS[name], 'tokenizer.model');
    return new SentencePieceProcessor(await readSentencePieceModel(file), file);
  }

  it('has the vocabulary size of the model', async () => {
    expect((await processor()).size).toBe(golden.vocab_size);
  });

  it(`encodes all ${strings.length} test strings exactly (pieces and ids)`, async () => {
    const sp = await processor();
    const m = new Mismatches();
    strings.forEach((s, i) => {
      const want = golden.sentencepiece[i]!;
      const got = sp.encode(s);
      m.check(`string ${i} pieces`, s, want.pieces, got.map((p) => p.piece));
      m.check(`string ${i} ids`, s, want.ids, got.map((p) => p.id));
    });
    m.assertNone();
  });

  it('decodes the encoded ids like SentencePiece', async () => {
    const sp = await processor();
    const m = new Mismatches();
    strings.forEach((s, i) => {
      const want = golden.sentencepiece[i]!;
      m.check(`string ${i} decode`, want.ids, want.decoded, sp.decodeIds(want.ids));
    });
    m.assertNone();
  });

  it('decodes random id sequences (byte pieces, control and unknown ids) like SentencePiece', async () => {
    const sp = await processor();
    const m = new Mismatches();
    golden.decode.forEach((c, i) => m.check(`sequence ${i}`, c.sp_ids, c.sp, sp.decodeIds(c.sp_ids)));
    m.assertNone();
    expect(golden.decode.length).toBeGreaterThan(50);
  });
});
