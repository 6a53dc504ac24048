// The template a folder gets without --conv-mode: the one its model card passes to run_vila.py
// (VILA README at NVlabs/VILA 48aadd5: vicuna_v1 for 3B/13B, llama_3 for Llama-3-VILA1.5-8b,
// hermes-2 for 40B), with Llama-3-VILA1.5-8b-Fix folders told apart by their names.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConvMode, modelFolderNames, namesSayFix, type VocabLookup } from '../../src/text/conv_mode.js';

const vocab = (...pieces: string[]): VocabLookup => ({
  pieceToId: (p) => (pieces.includes(p) ? pieces.indexOf(p) : undefined),
});
const LLAMA_3 = vocab('<|begin_of_text|>', '<|start_header_id|>', '<|eot_id|>');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('defaultConvMode', () => {
  it('picks by tokenizer family', () => {
    expect(defaultConvMode(vocab('<|im_start|>', '<|im_end|>'))).toBe('hermes-2');
    expect(defaultConvMode(vocab('<s>', '</s>'))).toBe('vicuna_v1');
    expect(defaultConvMode(LLAMA_3)).toBe('llama_3');
  });

  it('gives Llama 3 folders named "Fix" the corrected template', () => {
    expect(defaultConvMode(LLAMA_3, ['Llama-3-VILA1.5-8b'])).toBe('llama_3');
    expect(defaultConvMode(LLAMA_3, ['Llama-3-VILA1.5-8b-Fix'])).toBe('llama_3_fix');
    expect(defaultConvMode(LLAMA_3, ['weights', 'llama-3-vila1.5-8b-fix-w4-g128-awq-v2.pt'])).toBe('llama_3_fix');
    // Only Llama 3 folders have two templates.
    expect(defaultConvMode(vocab('<s>'), ['VILA1.5-13b-fix'])).toBe('vicuna_v1');
  });

  it('reads "fix" only as a word', () => {
    expect(namesSayFix(['Llama-3-VILA1.5-8b-Fix-AWQ'])).toBe(true);
    expect(namesSayFix(['fix'])).toBe(true);
    expect(namesSayFix(['prefix-model', 'fixtures', 'suffix'])).toBe(false);
  });
});

describe('modelFolderNames', () => {
  it('collects the folder name, _name_or_path and AWQ checkpoint names', () => {
    const base = mkdtempSync(join(tmpdir(), 'vila-conv-mode-'));
    dirs.push(base);
    const root = join(base, 'models--Efficient-Large-Model--Llama-3-VILA1.5-8b-Fix-AWQ', 'snapshots', 'abc123');
    const llm = join(root, 'llm');
    mkdirSync(llm, { recursive: true });
    writeFileSync(join(root, 'config.json'), JSON.stringify({ _name_or_path: 'ckpt/stage3' }));
    writeFileSync(join(llm, 'config.json'), '{not json');
    writeFileSync(join(llm, 'llama-3-vila1.5-8b-fix-w4-g128-awq-v2.pt'), '');
    expect(modelFolderNames(root, llm)).toEqual([
      'abc123',
      'models--Efficient-Large-Model--Llama-3-VILA1.5-8b-Fix-AWQ',
      'ckpt/stage3',
      'llama-3-vila1.5-8b-fix-w4-g128-awq-v2.pt',
    ]);
    expect(defaultConvMode(LLAMA_3, modelFolderNames(root, llm))).toBe('llama_3_fix');
  });
});
