// Error cases: every failure is a typed error that names the file (and field) at fault.

import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, FormatError } from '../../src/errors.js';
import { loadTokenizer } from '../../src/text/load.js';
import { parseSentencePieceModel } from '../../src/text/sentencepiece_model.js';
import { MODEL_DIRS } from './goldens.js';

const SRC = MODEL_DIRS['tinychat-awq'];

/** A temporary tokenizer folder holding copies of the fixture files, minus `omit`. */
function tokenizerDir(omit: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'vila-tok-'));
  for (const f of ['tokenizer.model', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (!omit.includes(f)) copyFileSync(join(SRC, f), join(dir, f));
  }
  return dir;
}

async function loadError(dir: string): Promise<Error> {
  try {
    await loadTokenizer(dir);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected loadTokenizer to fail');
}

describe('tokenizer loading errors', () => {
  it('names the missing tokenizer.model', async () => {
    const dir = tokenizerDir(['tokenizer.model']);
    const e = await loadError(dir);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(join(dir, 'tokenizer.model'));
  });

  it('names the missing tokenizer_config.json', async () => {
    const dir = tokenizerDir(['tokenizer_config.json']);
    const e = await loadError(dir);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(join(dir, 'tokenizer_config.json'));
  });

  it('loads without special_tokens_map.json (it is optional)', async () => {
    const tok = await loadTokenizer(tokenizerDir(['special_tokens_map.json']));
    expect(tok.encode('Hi')[0]).toBe(1);
  });

  it('reports a truncated tokenizer.model as a FormatError naming the file', async () => {
    const dir = tokenizerDir();
    const file = join(dir, 'tokenizer.model');
    const bytes = readFileSync(file);
    for (const cut of [1, 7, Math.floor(bytes.length / 2), bytes.length - 3]) {
      writeFileSync(file, bytes.subarray(0, cut));
      const e = await loadError(dir);
      expect(e).toBeInstanceOf(FormatError);
      expect(e.message).toContain(file);
      expect(e.message).toMatch(/truncated|malformed/);
    }
  });

  it('rejects bytes that are not a ModelProto', () => {
    expect(() => parseSentencePieceModel(new Uint8Array([0x0f, 0x01]), 'x.model')).toThrow(FormatError);
    expect(() => parseSentencePieceModel(new Uint8Array([]), 'x.model')).toThrow(/x\.model: model has no pieces/);
    // field 1 (pieces) sent as a varint
    expect(() => parseSentencePieceModel(new Uint8Array([0x08, 0x01]), 'x.model')).toThrow(/pieces.*wire type 0/);
  });

  it('names the file and field of a bad tokenizer_config.json', async () => {
    const dir = tokenizerDir();
    const cfg = join(dir, 'tokenizer_config.json');
    writeFileSync(cfg, '{ not json');
    expect((await loadError(dir)).message).toContain(cfg);
    writeFileSync(cfg, JSON.stringify({ add_bos_token: 'yes' }));
    expect((await loadError(dir)).message).toMatch(/tokenizer_config\.json: field add_bos_token/);
    writeFileSync(cfg, JSON.stringify({ tokenizer_class: 'GPT2Tokenizer' }));
    const e = await loadError(dir);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/tokenizer_class GPT2Tokenizer/);
  });
});
