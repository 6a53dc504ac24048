// Rebuilds standard Hugging Face `tokenizer.json` files for the real Llama 3 and Llama 2
// vocabularies from the data the npm packages llama3-tokenizer-js and llama-tokenizer-js ship
// (each package decodes its vocabulary into `vocabById` and its merges into `merges`, a map
// "left right" → priority; a lower priority merges first). The files follow the published
// meta-llama tokenizer.json files: Llama 3 is byte-level BPE with ignore_merges, split by the
// Llama 3 pre-tokenizer regex, with 256 special tokens after the 128000 base tokens (named as
// in Llama 3.1, as the package names them); Llama 2 is the SentencePiece BPE as a BPE model with
// byte fallback behind the "prepend ▁, spaces to ▁" normalizer.
//
// Tests call writeLlamaTokenizerFolder into a temporary folder; the files (9 MB for Llama 3)
// are never committed. `vila make-twin` writes them into shape twins. The two packages are
// development dependencies: they are imported when a vocabulary is asked for, and their absence
// is a clear error.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { llamaSentencePieceModel } from './sentencepiece_write.js';

export type LlamaVocabulary = 'llama3' | 'llama2';

interface VocabPackage {
  readonly vocabById: string[];
  readonly merges: Map<string, number>;
}

const PACKAGES: Record<LlamaVocabulary, string> = { llama3: 'llama3-tokenizer-js', llama2: 'llama-tokenizer-js' };

async function vocabPackage(which: LlamaVocabulary): Promise<VocabPackage> {
  try {
    return ((await import(PACKAGES[which])) as { default: VocabPackage }).default;
  } catch (e) {
    throw new InputError(`the real ${which === 'llama3' ? 'Llama 3' : 'Llama 2'} vocabulary comes from the npm package ${PACKAGES[which]} (a development dependency of vila-ts; npm i ${PACKAGES[which]}): ${(e as Error).message}`);
  }
}

/** The merges in priority order, as "left right" strings. */
function mergesInOrder(merges: Map<string, number>): string[] {
  return [...merges.entries()].sort((a, b) => a[1] - b[1]).map(([m]) => m);
}

function vocabObject(pieces: readonly string[]): Record<string, number> {
  const vocab = Object.create(null) as Record<string, number>; // pieces include "toString", "__proto__"
  pieces.forEach((p, id) => {
    if (Object.hasOwn(vocab, p)) throw new Error(`duplicate piece ${JSON.stringify(p)} at ids ${vocab[p]} and ${id}`);
    vocab[p] = id;
  });
  return vocab;
}

const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

function template(bos: string, bosId: number) {
  return {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: bos, type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: bos, type_id: 1 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
  };
}

const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export async function llama3TokenizerJson(): Promise<object> {
  const llama3 = await vocabPackage('llama3');
  const base = 128000;
  const pieces = llama3.vocabById;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: pieces.slice(base).map((t, i) => added(base + i, t)),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }, template('<|begin_of_text|>', base)],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab: vocabObject(pieces.slice(0, base)),
      merges: mergesInOrder(llama3.merges),
    },
  };
}

export async function llama2TokenizerJson(): Promise<object> {
  const llama2 = await vocabPackage('llama2');
  const pieces = llama2.vocabById;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '\u2581' },
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
      ],
    },
    pre_tokenizer: null,
    post_processor: template('<s>', 1),
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab: vocabObject(pieces),
      merges: mergesInOrder(llama2.merges),
    },
  };
}

/** tokenizer_config.json as the published folders have it (the fields the runtime reads). */
export function llamaTokenizerConfig(which: LlamaVocabulary): object {
  return which === 'llama3'
    ? { bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>', clean_up_tokenization_spaces: true, tokenizer_class: 'PreTrainedTokenizerFast' }
    : { add_bos_token: true, add_eos_token: false, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', clean_up_tokenization_spaces: false, legacy: false, tokenizer_class: 'LlamaTokenizer' };
}

/** Writes DIR/tokenizer.json and DIR/tokenizer_config.json for one vocabulary. */
export async function writeLlamaTokenizerFolder(which: LlamaVocabulary, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const json = which === 'llama3' ? await llama3TokenizerJson() : await llama2TokenizerJson();
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(llamaTokenizerConfig(which), null, 2)}\n`);
}

/** The Llama 2 vocabulary as the published folders carry it: a SentencePiece tokenizer.model. */
export async function llama2SentencePieceModel(): Promise<Uint8Array> {
  const llama2 = await vocabPackage('llama2');
  return llamaSentencePieceModel(llama2.vocabById, llama2.merges);
}
