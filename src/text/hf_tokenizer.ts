// A tokenizer read from a Hugging Face `tokenizer.json` (Llama 3 and other byte-level BPE
// models, but any file @huggingface/tokenizers reads), with transformers' PreTrainedTokenizerFast
// semantics on top:
// - `encode` is `tokenizer(text).input_ids`: the text's ids (added tokens in the text split out
//   first) between the prefix and suffix the post-processor's TemplateProcessing puts around a
//   single sequence (BOS for Llama 3). LlamaTokenizerFast rebuilds that template from the
//   config's add_bos_token / add_eos_token (update_post_processor); so do we when the config
//   names a Llama tokenizer class and sets either flag.
// - `tokenize` is `tokenizer.tokenize(text)` (no special tokens added).
// - `decode` is the Rust tokenizer's decode (skip_special_tokens drops the added tokens marked
//   special) followed by clean_up_tokenization when clean_up_tokenization_spaces is set
//   (PreTrainedTokenizerBase's default, true, where the config leaves it out).
// - `vocabSize` is get_vocab_size(with_added_tokens=False) (the model's vocabulary), `size` is
//   len(get_vocab()).

import { join } from 'node:path';
import { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';
import { ConfigError, InputError } from '../errors.js';
import type { Tokenizer } from './tokenizer.js';
import { readJson, type Json, type JsonObject } from './tokenizer_config.js';
import { cleanUpTokenization } from './clean_up.js';


export interface HfTokenizerOptions {
  /** Tokens added after loading with `tokenizer.add_tokens(tokens, special_tokens=True)`. */
  extraSpecialTokens?: readonly string[];
}

/** tokenizer_class values whose fast tokenizer rebuilds its post-processor from add_bos/eos_token. */
const LLAMA_FAST_CLASSES = /^(Llama|CodeLlama)Tokenizer(Fast)?$/;

const SPECIAL_ATTRIBUTES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

/** A special token given as a string or as an AddedToken object ({"content": ...}). */
function tokenContent(v: Json | undefined, field: string, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v['content'] === 'string') return v['content'];
  throw new ConfigError(`field ${field} must be a string or an AddedToken object, got ${JSON.stringify(v)}`, where);
}

function optionalBool(obj: JsonObject, key: string, where: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(`field ${key} must be a boolean, got ${JSON.stringify(v)}`, where);
  return v;
}

/** The special-token ids a TemplateProcessing puts before and after a single sequence. */
function templateOf(post: Json | undefined, where: string): { prefix: string[]; suffix: string[] } {
  const none = { prefix: [], suffix: [] };
  if (!isObject(post)) return none;
  if (post['type'] === 'Sequence' && Array.isArray(post['processors'])) {
    const templates = post['processors'].map((p) => templateOf(p, where)).filter((t) => t.prefix.length + t.suffix.length > 0);
    return templates[0] ?? none;
  }
  if (post['type'] !== 'TemplateProcessing') return none;
  const single = post['single'];
  const specials = post['special_tokens'];
  if (!Array.isArray(single)) throw new ConfigError('post_processor.single must be a list', where);
  const out = { prefix: [] as string[], suffix: [] as string[] };
  let seenSequence = false;
  for (const piece of single) {
    if (isObject(piece) && isObject(piece['Sequence'])) {
      seenSequence = true;
      continue;
    }
    const id = isObject(piece) && isObject(piece['SpecialToken']) ? piece['SpecialToken']['id'] : undefined;
    if (typeof id !== 'string') throw new ConfigError(`post_processor.single: unexpected item ${JSON.stringify(piece)}`, where);
    const entry = isObject(specials) ? specials[id] : undefined;
    const tokens = isObject(entry) && Array.isArray(entry['tokens']) ? entry['tokens'] : [id];
    for (const t of tokens) {
      if (typeof t !== 'string') throw new ConfigError(`post_processor.special_tokens.${id}: tokens must be strings`, where);
      (seenSequence ? out.suffix : out.prefix).push(t);
    }
  }
  return out;
}


export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly size: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** The unknown token's id; -1 where the tokenizer has none (byte-level BPE such as Llama 3's). */
  readonly unkId: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  private readonly core: HfTokenizerCore;
  private readonly prefix: number[];
  private readonly suffix: number[];
  private readonly specialIds: ReadonlySet<number>;
  private readonly cleanUp: boolean;

  /**
   * `tokenizerJson` is the parsed tokenizer.json, `config` the parsed tokenizer_config.json (or
   * {} where the folder has none); `where` names the folder in errors.
   */
  constructor(tokenizerJson: JsonObject, config: JsonObject, where: string, opts: HfTokenizerOptions = {}) {
    const jsonFile = join(where, 'tokenizer.json');
    const cfgFile = join(where, 'tokenizer_config.json');
    const model = tokenizerJson['model'];
    if (!isObject(model) || !isObject(model['vocab'])) throw new ConfigError('field model.vocab must be an object', jsonFile);
    const addedIn = tokenizerJson['added_tokens'] ?? [];
    if (!Array.isArray(addedIn)) throw new ConfigError('field added_tokens must be a list', jsonFile);

    // Every token string with its id: the model's vocabulary, then the added tokens.
    const ids = new Map<string, number>();
    for (const [piece, id] of Object.entries(model['vocab'])) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new ConfigError(`model.vocab["${piece}"] is not a token id`, jsonFile);
      ids.set(piece, id);
    }
    this.vocabSize = ids.size;
    const added: JsonObject[] = [];
    for (const [i, t] of addedIn.entries()) {
      if (!isObject(t) || typeof t['content'] !== 'string' || typeof t['id'] !== 'number') {
        throw new ConfigError(`added_tokens[${i}] must have a string content and a numeric id`, jsonFile);
      }
      added.push(t);
      ids.set(t['content'], t['id']);
    }
    // Special tokens named in the config that the file lacks, then run-time additions, are
    // appended after the vocabulary (PreTrainedTokenizerFast.__init__ / add_tokens).
    const specialNames: string[] = [];
    for (const attr of SPECIAL_ATTRIBUTES) {
      const c = tokenContent(config[attr], attr, cfgFile);
      if (c !== undefined) specialNames.push(c);
    }
    const extra = config['additional_special_tokens'];
    if (extra !== undefined && extra !== null) {
      if (!Array.isArray(extra)) throw new ConfigError('field additional_special_tokens must be a list', cfgFile);
      extra.forEach((t, i) => specialNames.push(tokenContent(t, `additional_special_tokens[${i}]`, cfgFile)!));
    }
    specialNames.push(...(opts.extraSpecialTokens ?? []));
    let next = 0;
    for (const id of ids.values()) next = Math.max(next, id + 1);
    for (const content of specialNames) {
      if (ids.has(content)) continue;
      added.push({ id: next, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
      ids.set(content, next++);
    }
    this.size = ids.size;

    try {
      this.core = new HfTokenizerCore({ ...tokenizerJson, added_tokens: added }, { clean_up_tokenization_spaces: false });
    } catch (e) {
      throw new ConfigError(`cannot read this tokenizer: ${(e as Error).message}`, jsonFile);
    }

    const idOf = (content: string, field: string): number => {
      const id = this.core.token_to_id(content);
      if (id === undefined) throw new ConfigError(`${field} "${content}" is not in the vocabulary`, jsonFile);
      return id;
    };
    const bos = tokenContent(config['bos_token'], 'bos_token', cfgFile);
    const eos = tokenContent(config['eos_token'], 'eos_token', cfgFile);
    const unk = tokenContent(config['unk_token'], 'unk_token', cfgFile) ?? (typeof model['unk_token'] === 'string' ? model['unk_token'] : undefined);
    this.bosId = bos === undefined ? undefined : idOf(bos, 'bos_token');
    this.eosId = eos === undefined ? undefined : idOf(eos, 'eos_token');
    this.unkId = unk === undefined ? -1 : idOf(unk, 'unk_token');

    const template = templateOf(tokenizerJson['post_processor'], jsonFile);
    this.prefix = template.prefix.map((t) => idOf(t, 'post_processor special token'));
    this.suffix = template.suffix.map((t) => idOf(t, 'post_processor special token'));
    const cls = config['tokenizer_class'];
    const addBosCfg = optionalBool(config, 'add_bos_token', cfgFile);
    const addEosCfg = optionalBool(config, 'add_eos_token', cfgFile);
    if (typeof cls === 'string' && LLAMA_FAST_CLASSES.test(cls) && (addBosCfg !== undefined || addEosCfg !== undefined)) {
      // LlamaTokenizerFast.update_post_processor: "<bos> $A <eos>" by the two flags (defaults true, false).
      this.prefix = (addBosCfg ?? true) && this.bosId !== undefined ? [this.bosId] : [];
      this.suffix = (addEosCfg ?? false) && this.eosId !== undefined ? [this.eosId] : [];
    }
    this.addBos = this.prefix.length > 0;
    this.addEos = this.suffix.length > 0;

    // What decode(skip_special_tokens=True) drops: added tokens marked special.
    this.specialIds = new Set(added.filter((t) => t['special'] === true).map((t) => t['id'] as number));
    this.cleanUp = optionalBool(config, 'clean_up_tokenization_spaces', cfgFile) ?? true;
  }

  encode(text: string, opts: { addBos?: boolean } = {}): number[] {
    const ids = this.core.encode(text, { add_special_tokens: false }).ids;
    const bos = opts.addBos ?? this.addBos;
    const prefix = !bos ? [] : this.prefix.length > 0 ? this.prefix : this.bosId === undefined ? [] : [this.bosId];
    return [...prefix, ...ids, ...this.suffix];
  }

  tokenize(text: string): string[] {
    return this.core.tokenize(text, { add_special_tokens: false });
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    for (const id of ids) {
      if (!Number.isInteger(id)) throw new InputError(`token id ${id} is not an integer`);
      if (id < 0 || id >= this.size) throw new InputError(`token id ${id} is out of range (vocabulary of ${this.size} tokens)`);
    }
    const skip = opts.skipSpecialTokens ?? false;
    const kept = skip ? ids.filter((id) => !this.specialIds.has(id)) : ids;
    if (kept.length === 0) return '';
    const text = this.core.decode([...kept], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    return this.cleanUp ? cleanUpTokenization(text) : text;
  }

  idToPiece(id: number): string {
    const piece = this.core.id_to_token(id);
    if (piece === undefined) throw new InputError(`token id ${id} is out of range (vocabulary of ${this.size} tokens)`);
    return piece;
  }

  pieceToId(piece: string): number | undefined {
    return this.core.token_to_id(piece);
  }

  /** Whether decode(ids, skip_special_tokens=True) drops the id: an added token marked special. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }
}

/** Reads `dir/tokenizer.json` and, when present, `dir/tokenizer_config.json`. */
export async function loadHfTokenizer(dir: string, opts: HfTokenizerOptions = {}): Promise<HfTokenizer> {
  const json = (await readJson(join(dir, 'tokenizer.json'), true))!;
  const config = (await readJson(join(dir, 'tokenizer_config.json'), false)) ?? {};
  return new HfTokenizer(json, config, dir, opts);
}
