// Conversation templates as data, rendered like VILA 1.5's llava/conversation.py
// (NVlabs/VILA vila1.5 branch 6b941da = 48aadd5 for this file) Conversation.get_prompt(), plus
// the prompt assembly of llava/eval/run_vila.py. llama_3_fix is the later Llama 3 template of
// NVlabs/VILA 54c9706 ("Support LongVILA"), the one Llama-3-VILA1.5-8b-Fix was trained with.
// `chat_template` is the folder's own Jinja template (chat_template.ts), opt-in.
// A template is a plain record: adding one means adding an entry to TEMPLATES, not code,
// unless it needs a new separator style.

import { InputError } from '../errors.js';
import { renderChatTemplate, type ChatMessage, type ChatTemplateSource } from './chat_template.js';
import { IMAGE_PLACEHOLDER } from './image_tokens.js';

/**
 * conversation.py SeparatorStyle, plus 'raw' (vila-ts: the messages verbatim, no template) and
 * 'jinja' (the folder's chat_template).
 */
export type SeparatorStyle = 'single' | 'two' | 'mpt' | 'plain' | 'llama_2' | 'mistral' | 'llama_3' | 'raw' | 'jinja';

export interface ConversationTemplate {
  readonly name: string;
  readonly system: string;
  /** [user, assistant] role strings, exactly as upstream (some include header markup). */
  readonly roles: readonly [string, string];
  readonly style: SeparatorStyle;
  readonly sep: string;
  /** Second separator (after assistant turns in 'two'); upstream None where absent. */
  readonly sep2?: string;
  readonly version: string;
  /** What generation stops on (run_vila.py's stop_str), derived from the separators. */
  readonly stopStrings: readonly string[];
  /** style 'jinja' only: the folder's chat template. */
  readonly chatTemplate?: ChatTemplateSource;
}

/** A template as written: everything but the derived fields. */
type TemplateSpec = Omit<ConversationTemplate, 'stopStrings' | 'chatTemplate'>;

/** One turn; `content` null (or empty: upstream tests truthiness) leaves the turn open. */
export interface Message {
  readonly role: string;
  readonly content: string | null;
}

const VICUNA_SYSTEM =
  'A chat between a curious user and an artificial intelligence assistant. ' +
  "The assistant gives helpful, detailed, and polite answers to the user's questions.";
const HUMAN_SYSTEM =
  'A chat between a curious human and an artificial intelligence assistant. ' +
  "The assistant gives helpful, detailed, and polite answers to the human's questions.";
const LLAMA_2_SYSTEM =
  'You are a helpful, respectful and honest assistant. Always answer as helpfully as possible, ' +
  'while being safe.  Your answers should not include any harmful, unethical, racist, sexist, toxic, ' +
  'dangerous, or illegal content. Please ensure that your responses are socially unbiased and ' +
  'positive in nature.\n\nIf a question does not make any sense, or is not factually coherent, ' +
  'explain why instead of answering something not correct. ' +
  "If you don't know the answer to a question, please don't share false information.";
const LLAVA_SYSTEM =
  'You are a helpful language and vision assistant. ' +
  'You are able to understand the visual content that the user provides, ' +
  'and assist the user with a variety of tasks using natural language.';

const LLAMA_3_SYSTEM = `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n${LLAVA_SYSTEM}`;
const LLAMA_3_USER = '<|start_header_id|>user<|end_header_id|>\n\n';

const TWO_VICUNA = { roles: ['USER', 'ASSISTANT'], style: 'two', sep: ' ', sep2: '</s>' } as const;
const LLAMA_2 = { roles: ['USER', 'ASSISTANT'], style: 'llama_2', sep: '<s>', sep2: '</s>' } as const;
const CHATML = {
  roles: ['<|im_start|>user\n', '<|im_start|>assistant\n'],
  style: 'mpt',
  sep: '<|im_end|>',
} as const;

const specs: TemplateSpec[] = [
  { name: 'vicuna_v1', system: VICUNA_SYSTEM, ...TWO_VICUNA, version: 'v1' },
  { name: 'vicuna_v1_nosys', system: '', ...TWO_VICUNA, version: 'v1_nosys' },
  { name: 'llava_v1', system: HUMAN_SYSTEM, ...TWO_VICUNA, version: 'v1' },
  {
    name: 'llava_v0',
    system: HUMAN_SYSTEM,
    roles: ['Human', 'Assistant'],
    style: 'single',
    sep: '###',
    version: 'Unknown',
  },
  { name: 'llama_2', system: LLAMA_2_SYSTEM, ...LLAMA_2, version: 'llama_v2' },
  { name: 'llava_llama_2', system: LLAVA_SYSTEM, ...LLAMA_2, version: 'llama_v2' },
  {
    name: 'mistral',
    system: '',
    roles: ['USER', 'ASSISTANT'],
    style: 'mistral',
    sep: '',
    sep2: '</s>',
    version: 'mistral',
  },
  {
    name: 'mpt',
    system:
      '<|im_start|>system\nA conversation between a user and an LLM-based AI assistant. ' +
      'The assistant gives helpful and honest answers.',
    ...CHATML,
    version: 'mpt',
  },
  { name: 'hermes-2', system: '<|im_start|>system\nAnswer the questions.', ...CHATML, version: 'hermes-2' },
  {
    // The template Llama-3-VILA1.5-8b was trained with (vila1.5 branch 6b941da, also 48aadd5):
    // "<|end_of_text|>" after every turn and an assistant header that reads "system" (spec §5).
    name: 'llama_3',
    system: LLAMA_3_SYSTEM,
    roles: [LLAMA_3_USER, '<|start_header_id|>system<|end_header_id|>\n\n'],
    style: 'llama_3',
    sep: '<|end_of_text|>',
    version: 'llama_v3',
  },
  {
    // The corrected one (NVlabs/VILA 54c9706, where it replaced llama_3 under the same name), the
    // template of Llama-3-VILA1.5-8b-Fix: "<|eot_id|>" after each turn, "<|end_of_text|>" after
    // a closing last turn, and an "assistant" header.
    name: 'llama_3_fix',
    system: LLAMA_3_SYSTEM,
    roles: [LLAMA_3_USER, '<|start_header_id|>assistant<|end_header_id|>\n\n'],
    style: 'llama_3',
    sep: '<|eot_id|>',
    sep2: '<|end_of_text|>',
    version: 'llama_v3',
  },
  { name: 'plain', system: '', roles: ['', ''], style: 'plain', sep: '\n', version: 'Unknown' },
  // vila-ts: no template at all; the user text is the prompt (stop on EOS only).
  { name: 'raw', system: '', roles: ['', ''], style: 'raw', sep: '', version: 'raw' },
];

const templates: ConversationTemplate[] = specs.map((t) => ({ ...t, stopStrings: stopStrings(t) }));

const byName = (name: string): ConversationTemplate => templates.find((t) => t.name === name)!;

/**
 * Templates by name; upstream aliases (v1, v0_plain) point at the same record, and
 * llama_3-Fix / llama_3_original spell out which Llama 3 template is meant.
 */
export const TEMPLATES: ReadonlyMap<string, ConversationTemplate> = new Map([
  ...templates.map((t) => [t.name, t] as const),
  ['v1', byName('vicuna_v1')],
  ['v0_plain', byName('plain')],
  ['llama_3_original', byName('llama_3')],
  ['llama_3-Fix', byName('llama_3_fix')],
]);

/** The name that selects a folder's own chat template (tokenizer_config.json). */
export const CHAT_TEMPLATE_MODE = 'chat_template';

/**
 * A template by name; `chat_template` needs the folder's template (readChatTemplate). Its
 * turns are {role: "user" | "assistant" | "system"}; it stops on the folder's eos_token.
 */
export function conversationTemplate(name: string, chatTemplate?: ChatTemplateSource): ConversationTemplate {
  if (name === CHAT_TEMPLATE_MODE) {
    if (chatTemplate === undefined) {
      throw new InputError('--conv-mode chat_template: the model folder has no chat_template in tokenizer_config.json');
    }
    const eos = chatTemplate.specialTokens['eos_token'];
    return {
      name,
      system: '',
      roles: ['user', 'assistant'],
      style: 'jinja',
      sep: '',
      version: 'chat_template',
      stopStrings: eos ? [eos] : [],
      chatTemplate,
    };
  }
  const t = TEMPLATES.get(name);
  if (t === undefined) {
    const known = [...TEMPLATES.keys(), CHAT_TEMPLATE_MODE].join(', ');
    throw new InputError(`unknown conversation template "${name}" (known: ${known})`);
  }
  return t;
}

/** Python's str.lstrip(chars): strips any of the characters, not the string. */
function lstripChars(s: string, chars: string): string {
  let i = 0;
  while (i < s.length && chars.includes(s[i]!)) i++;
  return s.slice(i);
}

/** Conversation.get_prompt() for plain-text messages. */
export function renderConversation(t: ConversationTemplate, messages: readonly Message[]): string {
  const seps = [t.sep, t.sep2 ?? ''];
  let ret: string;
  switch (t.style) {
    case 'single':
      ret = t.system + t.sep;
      for (const { role, content } of messages) ret += content ? `${role}: ${content}${t.sep}` : `${role}:`;
      return ret;
    case 'two':
      ret = t.system + seps[0];
      messages.forEach(({ role, content }, i) => {
        ret += content ? `${role}: ${content}${seps[i % 2]}` : `${role}:`;
      });
      return ret;
    case 'mpt':
      ret = t.system + t.sep;
      for (const { role, content } of messages) ret += content ? role + content + t.sep : role;
      return ret;
    case 'llama_3':
      // As mpt (the roles carry the header markup), but a closing last turn ends with sep2 where
      // the template has one (llama_3_fix; upstream 54c9706). The original has none: sep always.
      ret = t.system + t.sep;
      messages.forEach(({ role, content }, i) => {
        const sep = i < messages.length - 1 ? t.sep : (t.sep2 ?? t.sep);
        ret += content ? role + content + sep : role;
      });
      return ret;
    case 'llama_2':
    case 'mistral': {
      const wrapSys = (msg: string): string =>
        t.style === 'llama_2' ? `<<SYS>>\n${msg}\n<</SYS>>\n\n` : msg + (msg ? '\n' : '');
      ret = t.style === 'mistral' ? '<s>' : '';
      messages.forEach(({ role, content }, i) => {
        if (i === 0 && (!content || role !== t.roles[0])) {
          throw new InputError('the first message must be a non-empty user message for this template');
        }
        if (!content) return;
        const msg = i === 0 ? wrapSys(t.system) + content : content;
        if (i % 2 === 0) ret += `${t.sep}[INST] ${msg} [/INST]`;
        else ret += t.style === 'llama_2' ? ` ${msg} ${t.sep2 ?? ''}` : msg + (t.sep2 ?? '');
      });
      return lstripChars(ret, t.sep);
    }
    case 'plain':
      ret = t.system;
      messages.forEach(({ content }, i) => {
        if (content) ret += content + seps[i % 2];
      });
      return ret;
    case 'raw':
      return messages.map((m) => m.content ?? '').join('');
    case 'jinja':
      return renderJinja(t, messages);
  }
}

/**
 * The folder's chat template: an empty last turn becomes add_generation_prompt (the open
 * assistant turn of chatPrompt); empty turns elsewhere are left out.
 */
function renderJinja(t: ConversationTemplate, messages: readonly Message[]): string {
  if (t.chatTemplate === undefined) throw new InputError(`template ${t.name} has no chat template`);
  const last = messages[messages.length - 1];
  const open = last !== undefined && !last.content;
  const turns: ChatMessage[] = [];
  for (const { role, content } of messages) if (content) turns.push({ role, content });
  return renderChatTemplate(t.chatTemplate, turns, open);
}

/** run_vila.py: `stop_str = conv.sep if conv.sep_style != SeparatorStyle.TWO else conv.sep2`. */
export function stopStrings(t: TemplateSpec): string[] {
  if (t.style === 'raw' || t.style === 'jinja') return [];
  const s = t.style === 'two' ? t.sep2 : t.sep;
  return s ? [s] : [];
}

/** run_vila.py's IMAGE_PLACEHOLDER: a marker the query may use instead of "<image>". */
export const RUN_VILA_IMAGE_PLACEHOLDER = '<image-placeholder>';

export interface QuestionPromptOptions {
  /** config.json mm_use_im_start_end: images are written <im_start><image><im_end>. */
  mmUseImStartEnd?: boolean;
}

/**
 * The user turn run_vila.py builds from a query and N images: explicit markers are kept (the
 * <image-placeholder> spelling is rewritten), otherwise "<image>\n" is prepended once per image.
 */
export function questionWithImages(question: string, numImages: number, opts: QuestionPromptOptions = {}): string {
  const marker = opts.mmUseImStartEnd ? `<im_start>${IMAGE_PLACEHOLDER}<im_end>` : IMAGE_PLACEHOLDER;
  if (question.includes(RUN_VILA_IMAGE_PLACEHOLDER)) {
    return question.replaceAll(RUN_VILA_IMAGE_PLACEHOLDER, marker);
  }
  if (question.includes(IMAGE_PLACEHOLDER)) return question;
  return `${marker}\n`.repeat(numImages) + question;
}

/** The full generation prompt of run_vila.py: one user turn, then the open assistant turn. */
export function chatPrompt(
  t: ConversationTemplate,
  question: string,
  numImages: number,
  opts: QuestionPromptOptions = {},
): string {
  const user = questionWithImages(question, numImages, opts);
  return renderConversation(t, [
    { role: t.roles[0], content: user },
    { role: t.roles[1], content: null },
  ]);
}

/**
 * run_vila.py's automatic conv_mode from the model name (used when --conv-mode is not given).
 * Note that VILA1.5 names match none of the keys and fall back to llava_v0; the model cards
 * pass --conv-mode vicuna_v1 (3B/13B), llama_3 (8B) or hermes-2 (40B) explicitly.
 */
export function inferTemplateName(modelName: string): string {
  const n = modelName.toLowerCase();
  if (n.includes('llama-2')) return 'llava_llama_2';
  if (n.includes('v1')) return 'llava_v1';
  if (n.includes('mpt')) return 'mpt';
  return 'llava_v0';
}
