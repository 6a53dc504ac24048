// Loading the tokenizer of a model's tokenizer folder (VILA 1.5 keeps it in `<model>/llm/`).
// A folder with a SentencePiece tokenizer.model (Llama 2 based members, Yi) gets the slow
// LlamaTokenizer over tokenizer.model, tokenizer_config.json and, when present,
// special_tokens_map.json, mirroring AutoTokenizer.from_pretrained(path, use_fast=False,
// legacy=False) in VILA's llava/model/language_model/builder.py. A folder with only a
// tokenizer.json (Llama 3, which has no slow tokenizer) gets the fast tokenizer over it.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadHfTokenizer } from './hf_tokenizer.js';
import { LlamaTokenizer, type LlamaTokenizerOptions } from './llama_tokenizer.js';
import { readSentencePieceModel } from './sentencepiece_model.js';
import type { Tokenizer } from './tokenizer.js';
import { readTokenizerConfig } from './tokenizer_config.js';

/** tokenizer_class values whose slow tokenizer is LlamaTokenizer over tokenizer.model. */
const SENTENCEPIECE_CLASSES = /^(Llama|CodeLlama)Tokenizer(Fast)?$/;

export type LoadTokenizerOptions = LlamaTokenizerOptions;

export async function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  if (!existsSync(join(dir, 'tokenizer.model')) && existsSync(join(dir, 'tokenizer.json'))) {
    return loadHfTokenizer(dir, opts.extraSpecialTokens === undefined ? {} : { extraSpecialTokens: opts.extraSpecialTokens });
  }
  return loadLlamaTokenizer(dir, opts);
}

/** As loadTokenizer, typed as the concrete class (for access to the SentencePiece processor). */
export async function loadLlamaTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<LlamaTokenizer> {
  const config = await readTokenizerConfig(dir);
  const cls = config.tokenizerClass;
  if (cls !== undefined && !SENTENCEPIECE_CLASSES.test(cls)) {
    throw new ConfigError(
      `tokenizer_class ${cls} is not supported by the SentencePiece tokenizer (expected LlamaTokenizer)`,
      join(dir, 'tokenizer_config.json'),
    );
  }
  const modelFile = join(dir, 'tokenizer.model');
  const model = await readSentencePieceModel(modelFile);
  return new LlamaTokenizer(model, config, modelFile, opts);
}
