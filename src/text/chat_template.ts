// A folder's own Jinja chat template (tokenizer_config.json `chat_template`), rendered the way
// transformers' tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt)
// does: the template sees `messages`, `add_generation_prompt`, the special tokens by name
// (bos_token, eos_token, ...) and `raise_exception`. Rendered with @huggingface/jinja.
//
// VILA 1.5's run_vila.py never uses it (it builds prompts from llava/conversation.py), so it is
// opt-in: `--conv-mode chat_template`.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { ConfigError, InputError } from '../errors.js';
import { readJson, type Json, type JsonObject } from './tokenizer_config.js';

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

/** A folder's chat template and the special tokens it is rendered with. */
export interface ChatTemplateSource {
  /** The Jinja source. */
  readonly template: string;
  /** Special tokens by attribute name (bos_token, eos_token, ...), as strings. */
  readonly specialTokens: Readonly<Record<string, string>>;
  /** Where it was read from (for messages). */
  readonly file: string;
}

const SPECIAL_ATTRS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

function tokenString(v: Json | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v['content'] === 'string') return v['content'];
  return undefined;
}

/**
 * The `chat_template` field: a string, or a list of {name, template} where transformers uses
 * the one named "default".
 */
function templateField(v: Json | undefined, file: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const named = v.find((e) => e !== null && typeof e === 'object' && !Array.isArray(e) && e['name'] === 'default');
    const t = named === undefined ? undefined : (named as JsonObject)['template'];
    if (typeof t === 'string') return t;
    throw new ConfigError('field chat_template has no template named "default"', file);
  }
  throw new ConfigError('field chat_template must be a string or a list of {name, template}', file);
}

/**
 * The chat template of a tokenizer folder: `chat_template.jinja` when present (newer
 * transformers save it there), else tokenizer_config.json's `chat_template`; undefined if none.
 * Special tokens come from tokenizer_config.json, completed by special_tokens_map.json.
 */
export async function readChatTemplate(dir: string): Promise<ChatTemplateSource | undefined> {
  const cfgFile = join(dir, 'tokenizer_config.json');
  const cfg = (await readJson(cfgFile, false)) ?? {};
  const jinjaFile = join(dir, 'chat_template.jinja');
  const fromFile = existsSync(jinjaFile) ? readFileSync(jinjaFile, 'utf8') : undefined;
  const template = fromFile ?? templateField(cfg['chat_template'], cfgFile);
  if (template === undefined) return undefined;
  const map = (await readJson(join(dir, 'special_tokens_map.json'), false)) ?? {};
  const specialTokens: Record<string, string> = {};
  for (const attr of SPECIAL_ATTRS) {
    const s = tokenString(cfg[attr]) ?? tokenString(map[attr]);
    if (s !== undefined) specialTokens[attr] = s;
  }
  return { template, specialTokens, file: fromFile === undefined ? cfgFile : jinjaFile };
}

const compiled = new Map<string, Template>();

function compile(source: ChatTemplateSource): Template {
  let t = compiled.get(source.template);
  if (t === undefined) {
    try {
      t = new Template(source.template);
    } catch (e) {
      throw new ConfigError(`chat_template does not parse: ${(e as Error).message}`, source.file);
    }
    compiled.set(source.template, t);
  }
  return t;
}

/** apply_chat_template(messages, tokenize=False, add_generation_prompt=...). */
export function renderChatTemplate(
  source: ChatTemplateSource,
  messages: readonly ChatMessage[],
  addGenerationPrompt: boolean,
): string {
  const t = compile(source);
  try {
    // raise_exception (and strftime_now, range) are @huggingface/jinja built-ins.
    return t.render({
      ...source.specialTokens,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: addGenerationPrompt,
    });
  } catch (e) {
    throw new InputError(`chat_template (${source.file}): ${(e as Error).message}`);
  }
}
