// Tokenizer files for a shape twin's llm/ folder. The real Llama 2 and Llama 3 vocabularies are
// rebuilt as tokenizer.json files (text/llama_vocab_json.ts); the published 3b/13b folders carry
// the same Llama 2 vocabulary as a SentencePiece tokenizer.model instead, which cannot be rebuilt
// from what is available offline (the runtime reads both forms). Yi's vocabulary (40b) is not
// available offline either: the 40b twin carries the Llama 2 vocabulary with Yi's special
// tokens appended (<|startoftext|>, <|im_start|>, <|im_end|> at 32000-32002, where Yi has them at
// 1, 6 and 7), no BOS added, as Yi's tokenizer_config says (spec §5, unverified).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeLlamaTokenizerFolder } from '../text/llama_vocab_json.js';
import type { TokenizerFamily } from './members.js';

const special = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });

const YI_ADDED = ['<|startoftext|>', '<|im_start|>', '<|im_end|>'];

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
  await writeLlamaTokenizerFolder('llama2', llmDir);
  if (family === 'llama2') {
    json('tokenizer_config.json', {
      add_bos_token: true, add_eos_token: false, bos_token: '<s>', clean_up_tokenization_spaces: false, eos_token: '</s>',
      legacy: false, model_max_length: maxLength, pad_token: '<unk>', padding_side: 'right', sp_model_kwargs: {},
      spaces_between_special_tokens: false, tokenizer_class: 'LlamaTokenizer', unk_token: '<unk>', use_default_system_prompt: false,
    });
    json('special_tokens_map.json', { bos_token: special('<s>'), eos_token: special('</s>'), pad_token: '<unk>', unk_token: special('<unk>') });
    return;
  }
  const path = join(llmDir, 'tokenizer.json');
  const tj = JSON.parse(readFileSync(path, 'utf8')) as { added_tokens: object[]; post_processor: unknown };
  YI_ADDED.forEach((content, i) => tj.added_tokens.push({ id: 32000 + i, ...special(content), special: true }));
  tj.post_processor = null; // no BOS
  writeFileSync(path, JSON.stringify(tj));
  json('tokenizer_config.json', {
    add_bos_token: false, add_eos_token: false, bos_token: '<|startoftext|>', clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>', legacy: false, model_max_length: maxLength, pad_token: '<unk>', padding_side: 'right',
    tokenizer_class: 'LlamaTokenizer', unk_token: '<unk>',
  });
  json('special_tokens_map.json', { bos_token: special('<|startoftext|>'), eos_token: special('<|im_end|>'), pad_token: '<unk>', unk_token: special('<unk>') });
}
