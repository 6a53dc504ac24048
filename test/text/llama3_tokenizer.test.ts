// The tokenizer.json tokenizer (src/text/hf_tokenizer.ts) on the real Llama 3 and Llama 2
// vocabularies. src/text/llama_vocab_json.ts rebuilds standard tokenizer.json files from the data
// of the npm packages llama3-tokenizer-js and llama-tokenizer-js into a temporary folder, the
// normal loader reads them (a folder with tokenizer.json and no tokenizer.model), and each
// package's own encode() is the oracle.
//
// BOS conventions, compared like with like:
// - llama3-tokenizer-js encode(s, {bos, eos}) adds <|begin_of_text|> / <|end_of_text|> as asked,
//   and (like transformers) reads the Llama 3 special tokens written in the text as special
//   tokens. Ours adds BOS and no EOS (the post-processor's template), so encode(s) is compared
//   with {bos: true, eos: false} and encode(s, {addBos: false}) with {bos: false, eos: false}.
// - llama-tokenizer-js encode(s, add_bos_token, add_preceding_space) prepends " " to the text (the
//   "prepend ▁" normalizer) and returns [] for "" even with BOS; it knows no special tokens, so
//   texts containing "<s>", "</s>" or "<unk>" (which transformers splits out as special tokens)
//   are not compared with it; they are checked on their own below. Ours adds BOS <s>.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import llama2 from 'llama-tokenizer-js';
import llama3 from 'llama3-tokenizer-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/text/load.js';
import type { Tokenizer } from '../../src/text/tokenizer.js';
import { writeLlamaTokenizerFolder } from '../../src/text/llama_vocab_json.js';
import { llamaSentencePieceModel } from '../../src/text/sentencepiece_write.js';

/** Hand-written texts that tend to break byte-level BPE ports. */
const TRICKY: string[] = [
  '',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r\n',
  '\n\n\n',
  ' \n \n ',
  'Hello world',
  ' Hello world',
  'Hello  world   !',
  'trailing spaces   ',
  '\ttab\tseparated\tvalues\t',
  'line one\nline two\r\nline three\n\n  indented\n\t\ttabbed',
  "I'm sure it's fine, we'll see, they've gone, you're right, he'd know",
  "I'M SURE IT'S FINE, WE'LL SEE, THEY'VE GONE, YOU'RE RIGHT, HE'D KNOW",
  "don't can't won't O'Neil rock'n'roll ''quoted'' 's 'll",
  '1234567890',
  '3.14159265358979323846264338327950288419716939937510',
  '1,000,000 and 1_000_000 and 0x1F and 1e-10 and -42',
  '٣٤٥ ١٢ and ⅔ and ²³ and 𝟙𝟚𝟛 digits',
  'grabbed 12345678901234567890 items',
  'Hello, world! How are you? I am fine... Thanks!!! (really) [yes] {no} <maybe>',
  '"quoted" \'single\' `backtick` «guillemets» „German“ ‘curly’',
  '!!!???...;;;:::---___===+++***&&&%%%$$$###@@@~~~^^^|||\\\\\\///',
  'naïve café résumé façade jalapeño Ångström Øresund ßtraße',
  'Привет, мир! Как дела?',
  'Γειά σου Κόσμε',
  'مرحبا بالعالم',
  'שלום עולם',
  'नमस्ते दुनिया',
  'สวัสดีชาวโลก',
  '안녕하세요 세계',
  '你好，世界！这是一个测试。',
  '日本語のテキストとカタカナ、ひらがな。',
  'mixed: Hello Привет 你好 مرحبا 😀 123',
  '😀😃😄😁😆😅😂🤣',
  '👍🏽👍🏿 👩‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇯🇵 ❤️',
  'e\u0301 combining accents a\u0308 o\u0303',
  'zero\u200bwidth\u200djoiner\ufeffbom',
  'non\u00a0breaking\u2003em\u3000ideographic spaces',
  '\u0000\u0001\u001f control \u007f chars',
  'the ▁ SentencePiece marker ▁▁ and Ġ Ċ byte-level markers',
  '<|begin_of_text|>',
  '<|begin_of_text|>Hello<|end_of_text|>',
  '<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  'look-alikes: <|begin_of_text> <begin_of_text|> < |eot_id| > <|EOT_ID|> <|eot_id |>',
  'reserved: <|reserved_special_token_0|> <|reserved_special_token_247|> <|reserved_special_token_248|> <|reserved_special_token_00|>',
  '<s> </s> <unk> <S> </ s> <s >',
  'text<s>glued</s>to<unk>specials',
  'function f(x) {\n  return x * 2; // double\n}\n',
  'def main():\n    for i in range(10):\n        print(f"{i:>4}")\n',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; }',
  '<div class="a">&nbsp;&amp;</div>',
  'SELECT * FROM users WHERE id = 1;',
  'https://example.com/path?q=1&r=two#frag user@example.com',
  '{"key": [1, 2.5, null, true], "nested": {"a": "b"}}',
  '    four spaces then text',
  'a\u3000b\u2028c\u2029d',
  'x'.repeat(300),
  'ab'.repeat(150),
  ' '.repeat(100),
  '9'.repeat(200),
  '😀'.repeat(50),
  'ﬁ ﬂ ligatures and ＦＵＬＬＷＩＤＴＨ letters',
  '\u{10FFFF} \u{1F9D1}\u{200D}\u{1F4BB} \u{E0067} tag chars',
];

/** mulberry32: a small seeded generator, so the texts are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['the', 'The', 'THE', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'tokenizer', 'Llama', 'vision', 'language', 'model', 'über', 'naïve', 'größer', 'мир', 'привет', 'κόσμε', '世界', '東京', 'テスト', '한국어', 'مرحبا', 'नमस्ते', 'ไทย', 'don\'t', "it's", "WE'LL", "they'VE", 'x', 'I', 'a'];
const PUNCT = ['.', ',', '!', '?', ';', ':', '...', '--', '—', '–', '(', ')', '[', ']', '{', '}', '<', '>', '"', "'", '`', '/', '\\', '|', '@', '#', '$', '%', '^', '&', '*', '+', '=', '~', '_', '・', '。', '、', '¿', '¡'];
const WHITESPACE = [' ', '  ', '   ', '\t', '\t\t', '\n', '\n\n', '\r\n', ' \n', '\n ', '\u00a0', '\u3000', ' \t \n'];
const EMOJI = ['😀', '🎉', '👍🏽', '👩‍💻', '🏳️‍🌈', '🇩🇪', '❤️', '✨', '🦙', '🤖', '⚡', '©', '™', '∑', '∞', '≠', '√', '→', '★', '♪'];
const SPECIALISH = ['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_5|>', '<|python_tag|>', '<|eot_id', 'eot_id|>', '<||>', '<|foo|>', '<s>', '</s>', '<unk>', '<pad>', '<image>', '<im_start>'];
const CODE = ['if (x == 1) {', '}', 'return;', '=>', '!==', '&&', '||', '::', '->', '#!/bin/sh', 'a[i] += b[j];', 'print("hi")', 'import numpy as np', '0xDEADBEEF', '/* comment */', '// note', '$HOME', '%s', '{{var}}', 'snake_case_name', 'camelCaseName', 'SCREAMING_CASE'];

function randomDigits(r: () => number): string {
  const n = 1 + Math.floor(r() * (r() < 0.2 ? 40 : 8));
  let s = '';
  for (let i = 0; i < n; i++) s += String(Math.floor(r() * 10));
  return s;
}

/** A code point from ranges that cover many scripts and symbols (never a lone surrogate). */
function randomCodePoint(r: () => number): string {
  const ranges: [number, number][] = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x52f], [0x590, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f], [0x1100, 0x11ff], [0x2000, 0x2bff], [0x3000, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xff00, 0xffef], [0x1f300, 0x1faff], [0x1d400, 0x1d7ff], [0x0, 0x1f]];
  const [lo, hi] = ranges[Math.floor(r() * ranges.length)]!;
  return String.fromCodePoint(lo + Math.floor(r() * (hi - lo + 1)));
}

function randomText(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const parts: string[] = [];
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.3) parts.push(pick(WORDS));
    else if (k < 0.42) parts.push(pick(PUNCT));
    else if (k < 0.54) parts.push(pick(WHITESPACE));
    else if (k < 0.62) parts.push(randomDigits(r));
    else if (k < 0.7) parts.push(pick(EMOJI));
    else if (k < 0.76) parts.push(pick(SPECIALISH));
    else if (k < 0.84) parts.push(pick(CODE));
    else {
      let s = '';
      const m = 1 + Math.floor(r() * 6);
      for (let j = 0; j < m; j++) s += randomCodePoint(r);
      parts.push(s);
    }
    if (r() < 0.6) parts.push(' ');
  }
  return parts.join('');
}

const RANDOM = ((): string[] => {
  const r = rng(20240501);
  return Array.from({ length: 450 }, () => randomText(r));
})();
const TEXTS = [...TRICKY, ...RANDOM];

/** PreTrainedTokenizerBase.clean_up_tokenization (the Llama 3 config sets clean_up_tokenization_spaces). */
function cleanUp(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

describe('tokenizer.json tokenizer on the real Llama 3 and Llama 2 vocabularies', () => {
  let dir: string;
  let l3: Tokenizer;
  let l2: Tokenizer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vila-llama-tok-'));
    await writeLlamaTokenizerFolder('llama3', join(dir, 'llama3'));
    await writeLlamaTokenizerFolder('llama2', join(dir, 'llama2'));
    l3 = await loadTokenizer(join(dir, 'llama3'));
    l2 = await loadTokenizer(join(dir, 'llama2'));
  });

  it('Llama 3: the loader picks tokenizer.json; vocabulary, special tokens and BOS as transformers has them', () => {
    expect(l3.vocabSize).toBe(128000);
    expect(l3.size).toBe(128256);
    expect(l3.bosId).toBe(128000);
    expect(l3.eosId).toBe(128001);
    expect(l3.unkId).toBe(-1);
    expect(l3.addBos).toBe(true);
    expect(l3.addEos).toBe(false);
    expect(l3.idToPiece(128009)).toBe('<|eot_id|>');
    expect(l3.pieceToId('<|eot_id|>')).toBe(128009);
    expect(l3.pieceToId('Ġworld')).toBe(1917);
    expect(l3.isSpecial(128000)).toBe(true);
    expect(l3.isSpecial(128255)).toBe(true);
    expect(l3.isSpecial(9906)).toBe(false);
    expect(l3.encode('Hello world')).toEqual([128000, 9906, 1917]);
    expect(l3.encode('Hello world', { addBos: false })).toEqual([9906, 1917]);
    expect(l3.encode('')).toEqual([128000]);
    expect(l3.tokenize('Hello world<|eot_id|>')).toEqual(['Hello', 'Ġworld', '<|eot_id|>']);
    expect(l3.decode([128000, 9906, 1917, 128009])).toBe('<|begin_of_text|>Hello world<|eot_id|>');
    expect(l3.decode([128000, 9906, 1917, 128009], { skipSpecialTokens: true })).toBe('Hello world');
    expect(l3.decode([])).toBe('');
    // clean_up_tokenization_spaces (true in the published Llama 3 config) joins " ." as transformers does.
    expect(l3.decode(l3.encode('a . b', { addBos: false }))).toBe('a. b');
  });

  it(`Llama 3: ids equal llama3-tokenizer-js encode() on ${TEXTS.length} texts, and decode round-trips`, () => {
    const mismatches: { text: string; ours: number[]; oracle: number[] }[] = [];
    let roundTrips = 0;
    for (const text of TEXTS) {
      const oracle = llama3.encode(text, { bos: false, eos: false });
      const ours = l3.encode(text, { addBos: false });
      if (!same(ours, oracle)) mismatches.push({ text, ours, oracle });
      const withBos = l3.encode(text);
      if (!same(withBos, llama3.encode(text, { bos: true, eos: false }))) mismatches.push({ text, ours: withBos, oracle: llama3.encode(text, { bos: true, eos: false }) });
      if (llama3.decode(oracle) === text) {
        roundTrips++;
        expect(l3.decode(ours), JSON.stringify(text)).toBe(cleanUp(text));
        if (!ours.some((id) => id >= 128000)) expect(l3.decode(withBos, { skipSpecialTokens: true }), JSON.stringify(text)).toBe(cleanUp(text));
      }
    }
    expect(mismatches).toEqual([]);
    expect(TEXTS.length).toBeGreaterThanOrEqual(400);
    expect(roundTrips).toBeGreaterThanOrEqual(400);
  });

  it('Llama 2: the loader picks tokenizer.json; vocabulary, special tokens and BOS as transformers has them', () => {
    expect(l2.vocabSize).toBe(32000);
    expect(l2.size).toBe(32000);
    expect([l2.unkId, l2.bosId, l2.eosId]).toEqual([0, 1, 2]);
    expect(l2.addBos).toBe(true);
    expect(l2.addEos).toBe(false);
    expect(l2.encode('Hello world')).toEqual([1, 15043, 3186]);
    expect(l2.encode('')).toEqual([1]);
    expect(l2.tokenize(' Hello')).toEqual(['▁', '▁Hello']); // "▁▁Hello" is not a piece
    expect(l2.idToPiece(13)).toBe('<0x0A>');
    expect(l2.isSpecial(1) && l2.isSpecial(2) && l2.isSpecial(0)).toBe(true);
    expect(l2.isSpecial(3)).toBe(false);
    // Special tokens written in the text are split out (the oracle knows none); the text after
    // one gets its own "▁" from the normalizer, as the published tokenizer.json does.
    expect(l2.encode('a</s>b', { addBos: false })).toEqual([...llama2.encode('a', false, true), 2, ...llama2.encode('b', false, true)]);
    expect(l2.decode([1, 15043, 3186, 2], { skipSpecialTokens: true })).toBe('Hello world');
    expect(l2.decode([1, 15043, 3186, 2])).toBe('<s> Hello world</s>');
  });

  it('Llama 2: ids equal llama-tokenizer-js encode() on the texts without special tokens, and decode round-trips', () => {
    const compared = TEXTS.filter((t) => t !== '' && !/<s>|<\/s>|<unk>/.test(t));
    const mismatches: { text: string; ours: number[]; oracle: number[] }[] = [];
    let roundTrips = 0;
    for (const text of compared) {
      const oracle = llama2.encode(text, false, true);
      const ours = l2.encode(text, { addBos: false });
      if (!same(ours, oracle)) mismatches.push({ text, ours, oracle });
      const withBos = l2.encode(text);
      if (!same(withBos, llama2.encode(text, true, true))) mismatches.push({ text, ours: withBos, oracle: llama2.encode(text, true, true) });
      if (llama2.decode(oracle, false, true) === text) {
        roundTrips++;
        expect(l2.decode(withBos, { skipSpecialTokens: true }), JSON.stringify(text)).toBe(text);
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared.length).toBeGreaterThanOrEqual(400);
    expect(roundTrips).toBeGreaterThanOrEqual(400);
  });

  it('Llama 2: texts with "<s>", "</s>", "<unk>" in them are the oracle\'s ids of the pieces between those tokens', () => {
    // The published tokenizer.json normalizes each stretch of text between special tokens on its
    // own, so each stretch gets the "▁" the oracle prepends with add_preceding_space.
    const withSpecials = TEXTS.filter((t) => /<s>|<\/s>|<unk>/.test(t));
    const ids: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
    expect(withSpecials.length).toBeGreaterThanOrEqual(10);
    for (const text of withSpecials) {
      const expected = text.split(/(<s>|<\/s>|<unk>)/).flatMap((part) => (part in ids ? [ids[part]!] : part === '' ? [] : llama2.encode(part, false, true)));
      expect(l2.encode(text, { addBos: false }), JSON.stringify(text)).toEqual(expected);
      expect(l2.encode(text), JSON.stringify(text)).toEqual([1, ...expected]);
    }
  });
});

// The same Llama 2 vocabulary as the published 3B/13B folders carry it: a SentencePiece BPE
// tokenizer.model (src/text/sentencepiece_write.ts), read by this project's SentencePiece path
// (src/text/sentencepiece.ts, the one the real VILA1.5-3b folder takes) and by Google's own
// library. Among its pieces is U+FEFF (id 30143), which a default TextDecoder drops as a
// byte-order mark: the reader refused the real vocabulary before it decoded with ignoreBOM.
const hasSentencePiece = spawnSync('/usr/bin/python3', ['-c', 'import sentencepiece'], { encoding: 'utf8' }).status === 0;

describe('tokenizer.model rebuilt from the real Llama 2 vocabulary', () => {
  let dir: string;
  let spm: Tokenizer;
  const compared = TEXTS.filter((t) => t !== '' && !/<s>|<\/s>|<unk>/.test(t));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vila-llama2-spm-'));
    writeFileSync(join(dir, 'tokenizer.model'), llamaSentencePieceModel(llama2.vocabById, llama2.merges));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: true, add_eos_token: false, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', legacy: false, tokenizer_class: 'LlamaTokenizer' }));
    spm = await loadTokenizer(dir);
  });

  it(`the SentencePiece path gives llama-tokenizer-js's ids on ${compared.length} texts`, () => {
    expect(spm.vocabSize).toBe(32000);
    expect(spm.idToPiece(30143)).toBe('\uFEFF');
    const mismatches: { text: string; ours: number[]; oracle: number[] }[] = [];
    for (const text of compared) {
      const oracle = llama2.encode(text, true, true);
      const ours = spm.encode(text);
      if (!same(ours, oracle)) mismatches.push({ text, ours, oracle });
    }
    expect(mismatches).toEqual([]);
    expect(compared.length).toBeGreaterThanOrEqual(400);
  });

  it.skipIf(!hasSentencePiece)("Google's SentencePiece reads it and gives the same ids (needs Debian python3-sentencepiece)", () => {
    const texts = join(dir, 'texts.json');
    writeFileSync(texts, JSON.stringify(compared));
    const script = 'import json, sys, sentencepiece as s\np = s.SentencePieceProcessor(model_file=sys.argv[1])\nprint(json.dumps([p.encode(t) for t in json.load(open(sys.argv[2]))]))';
    const r = spawnSync('/usr/bin/python3', ['-c', script, join(dir, 'tokenizer.model'), texts], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    const google = JSON.parse(r.stdout) as number[][];
    const mismatches = compared.map((text, i) => ({ text, google: google[i]!, oracle: llama2.encode(text, false, true) })).filter((m) => !same(m.google, m.oracle));
    expect(mismatches).toEqual([]);
  });
});
