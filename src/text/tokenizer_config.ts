// tokenizer_config.json (and, for configs older than transformers 4.34, special_tokens_map.json
// and added_tokens.json) as transformers 4.36 reads them for a slow LlamaTokenizer
// (tokenization_utils_base.py _from_pretrained, tokenization_llama.py __init__): special tokens
// may be strings or AddedToken objects, and `added_tokens_decoder` gives the id of every added token.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { AddedToken } from './added_tokens.js';

/** PreTrainedTokenizerBase.SPECIAL_TOKENS_ATTRIBUTES, in upstream order (it fixes the ids of missing ones). */
export const SPECIAL_TOKEN_ATTRIBUTES = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
] as const;
export type SpecialTokenAttribute = (typeof SPECIAL_TOKEN_ATTRIBUTES)[number];

export interface TokenizerConfig {
  tokenizerClass: string | undefined;
  addBosToken: boolean;
  addEosToken: boolean;
  /** The `legacy` flag as written in the file (VILA overrides it with legacy=False). */
  legacy: boolean | undefined;
  cleanUpTokenizationSpaces: boolean;
  special: Partial<Record<SpecialTokenAttribute, AddedToken>>;
  additionalSpecialTokens: AddedToken[];
  addedTokensDecoder: Map<number, AddedToken>;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** A tokenizer JSON file as an object; a missing file is undefined unless `required`. */
export async function readJson(file: string, required: boolean): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
    throw new ConfigError(
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${String(e)}`,
      file,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`not valid JSON: ${(e as Error).message}`, file);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('expected a JSON object', file);
  }
  return parsed as JsonObject;
}

function bool(obj: JsonObject, key: string, dflt: boolean, where: string): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') {
    throw new ConfigError(`field ${key} must be a boolean, got ${JSON.stringify(v)}`, where);
  }
  return v;
}

/** A token given as a string (special, no stripping) or as an AddedToken object. */
function addedToken(v: Json | undefined, field: string, where: string, special: boolean): AddedToken | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return { content: v, lstrip: false, rstrip: false, singleWord: false, special };
  if (typeof v === 'object' && !Array.isArray(v) && typeof v['content'] === 'string') {
    const flag = (k: string, d: boolean): boolean => {
      const f = v[k];
      if (f === undefined || f === null) return d;
      if (typeof f !== 'boolean') throw new ConfigError(`field ${field}.${k} must be a boolean`, where);
      return f;
    };
    return {
      content: v['content'],
      lstrip: flag('lstrip', false),
      rstrip: flag('rstrip', false),
      singleWord: flag('single_word', false),
      special: flag('special', special),
    };
  }
  throw new ConfigError(
    `field ${field} must be a string or an AddedToken object, got ${JSON.stringify(v)}`,
    where,
  );
}

function tokenList(v: Json | undefined, field: string, where: string): AddedToken[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(`field ${field} must be a list`, where);
  return v.map((t, i) => addedToken(t, `${field}[${i}]`, where, true)!);
}

/** LlamaTokenizer's own defaults for tokens the files leave out. */
const LLAMA_DEFAULTS: Partial<Record<SpecialTokenAttribute, string>> = {
  bos_token: '<s>',
  eos_token: '</s>',
  unk_token: '<unk>',
};

function readAddedTokensDecoder(cfg: JsonObject, cfgFile: string): Map<number, AddedToken> {
  const out = new Map<number, AddedToken>();
  const decoder = cfg['added_tokens_decoder'];
  if (decoder === undefined || decoder === null) return out;
  if (typeof decoder !== 'object' || Array.isArray(decoder)) {
    throw new ConfigError('field added_tokens_decoder must be an object', cfgFile);
  }
  for (const [key, value] of Object.entries(decoder)) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0) {
      throw new ConfigError(`added_tokens_decoder key "${key}" is not a token id`, cfgFile);
    }
    // Saved AddedTokens carry their own `special` flag; absent means not special.
    out.set(id, addedToken(value, `added_tokens_decoder.${key}`, cfgFile, false)!);
  }
  return out;
}

/**
 * Reads `dir/tokenizer_config.json` (required). As in transformers 4.36, a config that has
 * `added_tokens_decoder` (every config saved by transformers >= 4.34, VILA 1.5's included) is
 * complete on its own; only older configs are completed by `special_tokens_map.json` (whose
 * values then override the config's) and `added_tokens.json`. Errors name the file and field.
 */
export async function readTokenizerConfig(dir: string): Promise<TokenizerConfig> {
  const cfgFile = join(dir, 'tokenizer_config.json');
  const cfg = (await readJson(cfgFile, true))!;
  const modern = 'added_tokens_decoder' in cfg;
  const mapFile = join(dir, 'special_tokens_map.json');
  const map = modern ? {} : ((await readJson(mapFile, false)) ?? {});

  const special: Partial<Record<SpecialTokenAttribute, AddedToken>> = {};
  for (const attr of SPECIAL_TOKEN_ATTRIBUTES) {
    // An explicit null removes the token; an absent one takes LlamaTokenizer's default.
    const [src, where] = attr in map ? [map, mapFile] : attr in cfg ? [cfg, cfgFile] : [undefined, cfgFile];
    const raw = src === undefined ? LLAMA_DEFAULTS[attr] : src[attr];
    const tok = addedToken(raw, attr, where, true);
    if (tok !== undefined) special[attr] = tok;
  }
  // The map's additional special tokens are appended to the config's (no duplicates).
  const field = 'additional_special_tokens';
  const additionalSpecialTokens = tokenList(cfg[field], field, cfgFile) ?? [];
  for (const t of tokenList(map[field], field, mapFile) ?? []) {
    if (!additionalSpecialTokens.some((a) => a.content === t.content)) additionalSpecialTokens.push(t);
  }

  const addedTokensDecoder = readAddedTokensDecoder(cfg, cfgFile);
  if (!modern) {
    // added_tokens.json: {"content": id}; tokens named as special tokens are special.
    const file = join(dir, 'added_tokens.json');
    const names = new Set([...Object.values(special), ...additionalSpecialTokens].map((t) => t.content));
    for (const [content, id] of Object.entries((await readJson(file, false)) ?? {})) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
        throw new ConfigError(`field ${content} must be a token id`, file);
      }
      const isSpecial = names.has(content);
      addedTokensDecoder.set(id, { content, lstrip: false, rstrip: false, singleWord: false, special: isSpecial });
    }
  }

  const tokenizerClass = cfg['tokenizer_class'];
  const legacy = cfg['legacy'];
  if (legacy !== undefined && legacy !== null && typeof legacy !== 'boolean') {
    throw new ConfigError('field legacy must be a boolean', cfgFile);
  }
  return {
    tokenizerClass: typeof tokenizerClass === 'string' ? tokenizerClass : undefined,
    addBosToken: bool(cfg, 'add_bos_token', true, cfgFile),
    addEosToken: bool(cfg, 'add_eos_token', false, cfgFile),
    legacy: legacy ?? undefined,
    cleanUpTokenizationSpaces: bool(cfg, 'clean_up_tokenization_spaces', false, cfgFile),
    special,
    additionalSpecialTokens,
    addedTokensDecoder,
  };
}
