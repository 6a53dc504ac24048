// Tokenizer files for a shape twin's llm/ folder, in the published forms: the real Llama 2
// vocabulary as a SentencePiece tokenizer.model (3b, 3b-s2, 13b) and the real Llama 3 one as a
// tokenizer.json (8b), both rebuilt from the npm packages' data (text/llama_vocab_json.ts). Yi's vocabulary (40b) is not
// available offline either: the 40b twin carries the project's Yi-like test tokenizer
// (test/fixtures/text/spm-bpe-yi: a SentencePiece BPE tokenizer.model of 1800 pieces trained
// like Yi's, with <|startoftext|>, <|endoftext|>, <|im_start|>, <|im_end|> at Yi's ids 1, 2, 6,
// 7, no BOS added, and a tokenizer_config modelled on Nous-Hermes-2-Yi-34B's).

import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { llama2SentencePieceModel, writeLlamaTokenizerFolder } from '../text/llama_vocab_json.js';
import type { TokenizerFamily } from './members.js';

const special = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });

/** A Yi-like test tokenizer (tools/yi_test_tokenizer.py), from src/twin or dist/twin. */
const YI_LIKE = join(import.meta.dirname, '../../test/fixtures/text/spm-bpe-yi');

export async function writeTwinTokenizer(family: TokenizerFamily, llmDir: string, maxLength: number): Promise<void> {
  const json = (name: string, v: unknown): void => writeFileSync(join(llmDir, name), `${JSON.stringify(v, null, 2)}\n`);
  if (family === 'llama3') {
    await writeLlamaTokenizerFolder('llama3', llmDir);
    json('tokenizer_config.json', {
      bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>', clean_up_tokenization_spaces: true,
      model_input_names: ['input_ids', 'attention_mask'], model_max_length: maxLength, tokenizer_class: 'PreTrainedTokenizerFast',
    });
    json('special_tokens_map.json', { bos_token: special('<|begin_of_text|>'), eos_token: special('<|end_of_text|>') });
    return;
  }
  if (family === 'llama2') {
    writeFileSync(join(llmDir, 'tokenizer.model'), await llama2SentencePieceModel());
    json('tokenizer_config.json', {
      add_bos_token: true, add_eos_token: false, bos_token: '<s>', clean_up_tokenization_spaces: false, eos_token: '</s>',
      legacy: false, model_max_length: maxLength, pad_token: '<unk>', padding_side: 'right', sp_model_kwargs: {},
      spaces_between_special_tokens: false, tokenizer_class: 'LlamaTokenizer', unk_token: '<unk>', use_default_system_prompt: false,
    });
    json('special_tokens_map.json', { bos_token: special('<s>'), eos_token: special('</s>'), pad_token: '<unk>', unk_token: special('<unk>') });
    return;
  }
  // Yi: a SentencePiece tokenizer.model trained like Yi's, with its special pieces at Yi's ids.
  for (const f of ['tokenizer.model', 'tokenizer_config.json', 'special_tokens_map.json']) {
    const from = join(YI_LIKE, f);
    if (!existsSync(from)) throw new InputError(`the 40B twin's Yi-like tokenizer comes from this repository's ${YI_LIKE} (a checkout, not the npm package): ${from} is missing`);
    copyFileSync(from, join(llmDir, f));
  }
}
