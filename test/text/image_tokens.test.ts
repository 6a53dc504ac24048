// tokenizerImageToken against (1) the input ids in test/fixtures/tinychat-awq/expected.json, which
// upstream produced with VILA's tokenizer_image_token over transformers 4.36's LlamaTokenizer,
// and (2) VILA's own tokenizer_image_token source run by tools/tokenizer_goldens.py on edge-case
// prompts (leading, trailing and consecutive <image>, empty prompt) for every test tokenizer.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGE_TOKEN_INDEX, countImageTokens, tokenizerImageToken } from '../../src/text/image_tokens.js';
import { loadTokenizer } from '../../src/text/load.js';
import type { Tokenizer } from '../../src/text/tokenizer.js';
import { MODEL_DIRS, MODEL_NAMES, Mismatches, ROOT, vilaGoldens } from './goldens.js';

interface ExpectedCase {
  name: string;
  prompt: string;
  input_ids: number[];
  input_pieces?: string[];
}

const expected = JSON.parse(
  readFileSync(join(ROOT, 'test', 'fixtures', 'tinychat-awq', 'expected.json'), 'utf8'),
) as { cases: ExpectedCase[] };

describe('tokenizerImageToken', () => {
  it('reproduces the upstream input_ids of tinychat-awq/expected.json', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    expect(expected.cases.length).toBeGreaterThanOrEqual(3);
    const m = new Mismatches();
    for (const c of expected.cases) m.check(c.name, c.prompt, c.input_ids, tokenizerImageToken(tok, c.prompt));
    m.assertNone();
  });

  it.each(MODEL_NAMES)('matches VILA tokenizer_image_token on edge-case prompts (%s)', async (name) => {
    const tok = await loadTokenizer(MODEL_DIRS[name]);
    const cases = vilaGoldens().image_tokens[name];
    const m = new Mismatches();
    cases.forEach((c, i) => m.check(`prompt ${i}`, c.prompt, c.ids, tokenizerImageToken(tok, c.prompt)));
    m.assertNone();
  });

  it('puts one -200 per <image>, keeps one BOS, and drops nothing else', async () => {
    const tok: Tokenizer = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    const ids = tokenizerImageToken(tok, '<image><image>\nhi');
    expect(ids[0]).toBe(tok.bosId);
    expect(ids.slice(1, 3)).toEqual([IMAGE_TOKEN_INDEX, IMAGE_TOKEN_INDEX]);
    expect(countImageTokens(ids)).toBe(2);
    expect(ids.filter((id) => id === tok.bosId)).toHaveLength(1);
    expect(tokenizerImageToken(tok, '')).toEqual([tok.bosId]);
  });
});
