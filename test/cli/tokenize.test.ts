// `vila tokenize` / `vila detokenize` run as processes from the built dist/ (npm test builds
// first), on the bundled vila-shapes tokenizer and on a folder holding only the tokenizer files.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/text/load.js';
import type { Tokenizer } from '../../src/text/tokenizer.js';

const root = join(import.meta.dirname, '../..');
const model = join(root, 'models/vila-shapes');
const llm = join(model, 'llm');

function vila(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/vila.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function expectInputError(r: { code: number; stdout: string; stderr: string }, ...parts: string[]): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n').length).toBe(1);
  expect(r.stderr).toContain('InputError');
  for (const p of parts) expect(r.stderr).toContain(p);
}

const jsonLines = (stdout: string): unknown[] => stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);

/** Texts the SentencePiece byte-fallback tokenizer gets back exactly (special tokens skipped). */
const LOSSLESS = [
  'Hello world',
  ' hello', // a leading space survives: legacy=False tokenizers add no dummy prefix of their own
  '  two leading spaces',
  'a  b   c    d',
  'trailing spaces  ',
  ' ',
  'tab\there\nnewline\r\n',
  'héllo wörld — 日本語のテキスト',
  'emoji 😀👍🏽 and 👩‍👩‍👧 family',
  'quotes "x" and \\ backslash',
  'x = [1, 2, 3]; // code',
];

describe('vila tokenize / detokenize', () => {
  let tokenizer: Tokenizer;
  let tokenizerOnly: string;

  beforeAll(async () => {
    tokenizer = await loadTokenizer(llm);
    // A folder with the tokenizer files alone: no weights, no configs, no llm/ subfolder.
    tokenizerOnly = mkdtempSync(join(tmpdir(), 'vila-tok-'));
    for (const f of ['tokenizer.model', 'tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(llm, f), join(tokenizerOnly, f));
  });

  it('prints the ids of tokenizer.encode: plain, --json, default model, DIR/llm and a tokenizer-only folder', () => {
    const text = 'Hello <s> world</s>, again';
    const expected = tokenizer.encode(text);
    expect(expected[0]).toBe(tokenizer.bosId); // BOS added, as the config says
    expect(expected).toContain(tokenizer.eosId); // "</s>" in the text is the special token
    expect(readdirSync(tokenizerOnly).some((f) => f.endsWith('.safetensors'))).toBe(false);

    const plain = vila('tokenize', '--model', model, '--text', text);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(`${expected.join(' ')}\n`);
    for (const args of [[], ['--model', llm], ['--model', tokenizerOnly]]) {
      const r = vila('tokenize', ...args, '--json', '--text', text);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ ids: expected });
    }
  });

  it('--text-file and --ids-file round trip, one JSON value per line, in order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vila-tok-'));
    const textFile = join(dir, 'texts.jsonl');
    writeFileSync(textFile, `${LOSSLESS.map((s, i) => JSON.stringify(s) + (i === 2 ? '\n\n  \n' : '\n')).join('')}\n`);
    const tok = vila('tokenize', '--model', tokenizerOnly, '--text-file', textFile);
    expect(tok.code, tok.stderr).toBe(0);
    const ids = (jsonLines(tok.stdout) as { ids: number[] }[]).map((o) => o.ids);
    expect(ids).toEqual(LOSSLESS.map((s) => tokenizer.encode(s)));

    const idsFile = join(dir, 'ids.jsonl');
    writeFileSync(idsFile, ids.map((l) => `${JSON.stringify(l)}\n`).join(''));
    const skipped = vila('detokenize', '--model', tokenizerOnly, '--ids-file', idsFile, '--skip-special-tokens');
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(jsonLines(skipped.stdout)).toEqual(LOSSLESS.map((text) => ({ text })));
    // Without skipping, BOS is written out and the first piece keeps its "▁" as a space
    // (transformers' slow LlamaTokenizer decodes "<s> Hello world" the same way).
    const kept = vila('detokenize', '--model', model, '--ids-file', idsFile);
    expect(kept.code, kept.stderr).toBe(0);
    expect(jsonLines(kept.stdout)).toEqual(LOSSLESS.map((text) => ({ text: `<s> ${text}` })));
  });

  it('where the tokenizer is lossy: "▁" in the text reads as a space, special tokens in the text are kept or skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vila-tok-'));
    const idsFile = join(dir, 'ids.jsonl');
    const lossy = ['\u2581x</s>y', '<s>z'];
    writeFileSync(idsFile, lossy.map((s) => `${JSON.stringify(tokenizer.encode(s))}\n`).join(''));
    const skipped = vila('detokenize', '--ids-file', idsFile, '--skip-special-tokens');
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(jsonLines(skipped.stdout)).toEqual([{ text: ' xy' }, { text: 'z' }]);
    const kept = vila('detokenize', '--ids-file', idsFile);
    expect(jsonLines(kept.stdout)).toEqual([{ text: '<s>  x</s>y' }, { text: '<s><s>z' }]);
  });

  it('detokenize takes "1 2 3" or a JSON array, prints the text, and decodes as tokenizer.decode', () => {
    const ids = tokenizer.encode(' hello  world');
    const plain = vila('detokenize', '--ids', ids.join(' '), '--skip-special-tokens');
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(' hello  world\n');
    const json = vila('detokenize', '--model', tokenizerOnly, '--ids', JSON.stringify(ids), '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ text: tokenizer.decode(ids) });
    expect(JSON.parse(json.stdout)).toEqual({ text: '<s>  hello  world' });
  });

  it('a --text-file line that is not a JSON string is an input error naming the file and line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vila-tok-')), 'bad.jsonl');
    writeFileSync(file, '"fine"\n\nnot json\n[1, 2]\n');
    expectInputError(vila('tokenize', '--text-file', file), file, 'line 3');
  });

  it('an id out of range is an input error naming the id and the vocabulary size', () => {
    const size = tokenizer.vocabSize;
    expectInputError(vila('detokenize', '--ids', `1 ${size}`), `token id ${size}`, `${size} tokens`);
    const file = join(mkdtempSync(join(tmpdir(), 'vila-tok-')), 'ids.jsonl');
    writeFileSync(file, '[1, 2]\n[3, 99999]\n');
    expectInputError(vila('detokenize', '--ids-file', file), file, 'line 2', 'token id 99999', `${size} tokens`);
  });
});
