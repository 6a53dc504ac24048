// `vila tokenize` / `vila detokenize` on a tokenizer-only Llama 3 folder: the tokenizer.json
// rebuilt from llama3-tokenizer-js's data (src/text/llama_vocab_json.ts) and a minimal
// tokenizer_config.json, no tokenizer.model. Runs the built dist/ as a process (npm test builds first).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import llama3 from 'llama3-tokenizer-js';
import { describe, expect, it } from 'vitest';
import { writeLlamaTokenizerFolder } from '../../src/text/llama_vocab_json.js';

const root = join(import.meta.dirname, '../..');

function vila(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/vila.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('vila tokenize on a Llama 3 tokenizer.json folder', () => {
  it('prints the ids with BOS, recognises special tokens in the text, and detokenize reverses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vila-llama3-'));
    await writeLlamaTokenizerFolder('llama3', dir);
    // Only what the minimal config needs: BOS named, nothing else.
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|begin_of_text|>' }));

    const text = '<|start_header_id|>user<|end_header_id|>\n\nHello wörld 日本 😀 12345<|eot_id|>';
    const expected = llama3.encode(text, { bos: true, eos: false });
    expect(expected[0]).toBe(128000);
    expect(expected).toContain(128009);
    const r = vila('tokenize', '--model', dir, '--json', '--text', text);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ids: expected });

    const back = vila('detokenize', '--model', dir, '--ids', expected.join(' '), '--json');
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toEqual({ text: `<|begin_of_text|>${text}` });
    const skipped = vila('detokenize', '--model', dir, '--ids', JSON.stringify(expected), '--skip-special-tokens');
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toBe('user\n\nHello wörld 日本 😀 12345\n');

    const bad = vila('detokenize', '--model', dir, '--ids', '1 128256');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('token id 128256');
    expect(bad.stderr).toContain('128256 tokens');
  });
});
