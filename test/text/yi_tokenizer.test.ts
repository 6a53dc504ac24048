// The Yi tokenizer of VILA1.5-40b (Nous-Hermes-2-Yi-34B), through the Yi-like fixture
// test/fixtures/text/spm-bpe-yi (tools/yi_test_tokenizer.py): no BOS (add_bos_token false),
// bos <|startoftext|>=1, eos <|im_end|>=7, <|im_start|>=6 an added token that is not special.
// The shared goldens (every strings.json input, decode, tokenizer_image_token) run in
// llama_tokenizer.test.ts and image_tokens.test.ts; here: ChatML text, the hermes-2 prompt
// and `vila tokenize` / `vila detokenize` against tools/tokenizer_goldens.py.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConvMode } from '../../src/text/conv_mode.js';
import { IMAGE_TOKEN_INDEX, tokenizerImageToken } from '../../src/text/image_tokens.js';
import { loadTokenizer } from '../../src/text/load.js';
import { MODEL_DIRS, Mismatches, ROOT, modelGoldens, vilaGoldens } from './goldens.js';

const dir = MODEL_DIRS['spm-bpe-yi'];
const golden = modelGoldens('spm-bpe-yi');
const chatml = golden.chatml!;
const HERMES_PROMPT =
  '<|im_start|>system\nAnswer the questions.<|im_end|><|im_start|>user\n<image>\nDescribe the image.<|im_end|><|im_start|>assistant\n';

function vila(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/vila.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('Yi tokenizer (spm-bpe-yi)', () => {
  it('has Yi ids and config: no BOS, bos <|startoftext|>=1, eos <|im_end|>=7', async () => {
    const tok = await loadTokenizer(dir);
    expect([tok.bosId, tok.eosId, tok.unkId]).toEqual([1, 7, 0]);
    expect(['<|startoftext|>', '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|im_sep|>'].map((p) => tok.pieceToId(p))).toEqual([1, 2, 6, 7, 8]);
    expect(tok.encode('Hello')[0]).not.toBe(1);
    expect(tok.encode('')).toEqual([]);
    // all_special_tokens: the attribute tokens only; <|im_start|> is an added, non-special token.
    expect([0, 1, 7].every((id) => tok.isSpecial(id))).toBe(true);
    expect(tok.isSpecial(6)).toBe(false);
  });

  describe.each([
    ['legacy=False (VILA)', false, 'hf_legacy_false'],
    ['legacy=True', true, 'hf_legacy_true'],
  ] as const)('ChatML strings, %s', (_label, legacy, key) => {
    it(`tokenizes, encodes and decodes all ${chatml.strings.length} exactly`, async () => {
      const tok = await loadTokenizer(dir, { legacy });
      const m = new Mismatches();
      chatml.strings.forEach((s, i) => {
        const c = chatml[key][i]!;
        m.check(`string ${i} tokens`, s, c.tokens, tok.tokenize(s));
        m.check(`string ${i} input_ids`, s, c.ids, tok.encode(s));
        m.check(`string ${i} decode`, c.ids, c.decoded, tok.decode(c.ids));
        m.check(`string ${i} decode skip`, c.ids, c.decoded_skip, tok.decode(c.ids, { skipSpecialTokens: true }));
      });
      m.assertNone();
    });
  });

  it('cuts the added tokens out whole; <|im_sep|> (a control piece, not an added token) is text', async () => {
    const tok = await loadTokenizer(dir);
    expect(tok.encode('x<|im_end|>\n<|im_start|>y')).toContain(7);
    expect(tok.encode('x<|im_end|>\n<|im_start|>y')).toContain(6);
    expect(tok.encode('<|im_sep|>')).not.toContain(8);
  });

  it('gives the hermes-2 prompt the ids of VILA tokenizer_image_token: no BOS, a leading "▁"', async () => {
    const tok = await loadTokenizer(dir);
    const expected = vilaGoldens().image_tokens['spm-bpe-yi'].find((c) => c.prompt === HERMES_PROMPT);
    expect(expected).toBeDefined();
    const ids = tokenizerImageToken(tok, HERMES_PROMPT);
    expect(ids).toEqual(expected!.ids);
    // <|im_start|> is not in all_special_tokens, so legacy=False keeps the "▁" it prepends.
    expect(ids.slice(0, 2)).toEqual([tok.pieceToId('▁'), 6]);
    expect(ids.filter((id) => id === IMAGE_TOKEN_INDEX)).toHaveLength(1);
    expect(ids).not.toContain(tok.bosId);
    expect(defaultConvMode(tok)).toBe('hermes-2');
  });

  it('`vila tokenize --json` and `vila detokenize` give the golden ids and texts', () => {
    const cases = chatml.strings.map((s, i) => ({ s, c: chatml.hf_legacy_false[i]! })).slice(6, 9);
    for (const { s, c } of cases) {
      const tok = vila('tokenize', '--model', dir, '--text', s, '--json');
      expect(tok.code, tok.stderr).toBe(0);
      expect(JSON.parse(tok.stdout)).toEqual({ ids: c.ids });
      const detok = vila('detokenize', '--model', dir, '--ids', JSON.stringify(c.ids), '--json');
      expect(detok.code, detok.stderr).toBe(0);
      expect(JSON.parse(detok.stdout)).toEqual({ text: c.decoded });
    }
  });
});
