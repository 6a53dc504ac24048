// Which config file wins, as in transformers 4.36 _from_pretrained: a config with
// added_tokens_decoder is used alone; an older one is completed by special_tokens_map.json
// (overriding it) and added_tokens.json. The legacy-config fixture is also covered, string by
// string, by the goldens in llama_tokenizer.test.ts.

import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/text/load.js';
import { readTokenizerConfig } from '../../src/text/tokenizer_config.js';
import { MODEL_DIRS } from './goldens.js';

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vila-tokcfg-'));
  copyFileSync(join(MODEL_DIRS['tinychat-awq'], 'tokenizer.model'), join(dir, 'tokenizer.model'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(data));
  return dir;
}

describe('tokenizer config files', () => {
  it('ignores special_tokens_map.json when tokenizer_config.json has added_tokens_decoder', async () => {
    const cfgFile = join(MODEL_DIRS['tinychat-awq'], 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as object;
    const dir = dirWith({ 'tokenizer_config.json': cfg, 'special_tokens_map.json': { bos_token: '</s>' } });
    expect((await loadTokenizer(dir)).bosId).toBe(1);
  });

  it('lets special_tokens_map.json override an old-style config', async () => {
    const dir = dirWith({
      'tokenizer_config.json': { bos_token: '<s>', tokenizer_class: 'LlamaTokenizer' },
      'special_tokens_map.json': { bos_token: '</s>', additional_special_tokens: ['<x>'] },
      'added_tokens.json': { '<x>': 700 },
    });
    const config = await readTokenizerConfig(dir);
    expect(config.special.bos_token?.content).toBe('</s>');
    expect(config.addedTokensDecoder.get(700)).toMatchObject({ content: '<x>', special: true });
    const tok = await loadTokenizer(dir);
    expect(tok.bosId).toBe(2);
    expect(tok.encode('a<x>b', { addBos: false })).toContain(700);
    expect(tok.isSpecial(700)).toBe(true);
  });

  it('reads the legacy-config fixture: <image> special at 700, <extra> plain added at 701', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['legacy-config']);
    expect(tok.pieceToId('<image>')).toBe(700);
    expect(tok.pieceToId('<extra>')).toBe(701);
    expect(tok.isSpecial(700)).toBe(true);
    expect(tok.isSpecial(701)).toBe(false);
    // _decode keeps added tokens apart and joins the parts with spaces.
    expect(tok.decode(tok.encode('x<extra>y', { addBos: false }))).toBe('x <extra> y');
  });
});
