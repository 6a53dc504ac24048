// --conv-mode chat_template: a folder's own Jinja template rendered as transformers'
// apply_chat_template(messages, tokenize=False, add_generation_prompt) renders it. The template
// is Meta-Llama-3-8B-Instruct's tokenizer_config.json chat_template; the expected strings were
// rendered by Python's jinja2 3.1.6 with transformers' settings
// (ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True), bos_token/eos_token
// passed as variables) and are quoted literally.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readChatTemplate, renderChatTemplate, type ChatTemplateSource } from '../../src/text/chat_template.js';
import { chatPrompt, conversationTemplate, renderConversation } from '../../src/text/conversation.js';

const LLAMA_3_INSTRUCT =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

const dirs: string[] = [];
function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vila-chat-template-'));
  dirs.push(dir);
  for (const [name, v] of Object.entries(files)) writeFileSync(join(dir, name), typeof v === 'string' ? v : JSON.stringify(v));
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const llama3Folder = (): string =>
  folder({
    'tokenizer_config.json': {
      bos_token: '<|begin_of_text|>',
      // An AddedToken object, as some configs write it.
      eos_token: { content: '<|eot_id|>', lstrip: false, normalized: false, rstrip: false, single_word: false },
      chat_template: LLAMA_3_INSTRUCT,
    },
  });

describe('chat_template', () => {
  it('reads the template and the special tokens from tokenizer_config.json', async () => {
    const src = (await readChatTemplate(llama3Folder()))!;
    expect(src.template).toBe(LLAMA_3_INSTRUCT);
    expect(src.specialTokens).toEqual({ bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' });
  });

  it('renders a two-turn Llama 3 conversation with the generation prompt, like transformers', async () => {
    const t = conversationTemplate('chat_template', await readChatTemplate(llama3Folder()));
    const prompt = renderConversation(t, [
      { role: 'user', content: '<image>\nWhat is shown?' },
      { role: 'assistant', content: 'A red square.' },
      { role: 'user', content: 'And the background?' },
      { role: 'assistant', content: null },
    ]);
    expect(prompt).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n<image>\nWhat is shown?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA red square.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnd the background?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    expect(t.stopStrings).toEqual(['<|eot_id|>']);
  });

  it('renders a system message and a closed conversation without the generation prompt', async () => {
    const src = (await readChatTemplate(llama3Folder()))!;
    const prompt = renderChatTemplate(
      src,
      [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: '<image>\nWhat is shown?' },
        { role: 'assistant', content: 'A red square.' },
      ],
      false,
    );
    expect(prompt).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nAnswer briefly.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n<image>\nWhat is shown?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA red square.<|eot_id|>',
    );
  });

  it('builds the run_vila.py-style single-image prompt through chatPrompt', async () => {
    const t = conversationTemplate('chat_template', await readChatTemplate(llama3Folder()));
    expect(chatPrompt(t, 'Describe the image.', 1)).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n<image>\nDescribe the image.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('takes the "default" of named templates, prefers chat_template.jinja, and fills in special_tokens_map.json', async () => {
    const named = folder({
      'tokenizer_config.json': { chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D{{ eos_token }}' }] },
      'special_tokens_map.json': { eos_token: '</s>' },
    });
    const src = (await readChatTemplate(named))!;
    expect(renderChatTemplate(src, [], false)).toBe('D</s>');
    const jinja = folder({ 'tokenizer_config.json': { chat_template: 'config' }, 'chat_template.jinja': 'file' });
    expect((await readChatTemplate(jinja))!.template).toBe('file');
  });

  it('is absent for folders without one, and --conv-mode chat_template then says so', async () => {
    expect(await readChatTemplate(folder({ 'tokenizer_config.json': { bos_token: '<s>' } }))).toBeUndefined();
    expect(() => conversationTemplate('chat_template')).toThrow(/no chat_template/);
  });

  it('turns raise_exception into an input error', () => {
    const src: ChatTemplateSource = {
      template: "{% if messages[0]['role'] != 'user' %}{{ raise_exception('user first') }}{% endif %}ok",
      specialTokens: {},
      file: 'x',
    };
    expect(renderChatTemplate(src, [{ role: 'user', content: 'a' }], false)).toBe('ok');
    expect(() => renderChatTemplate(src, [{ role: 'assistant', content: 'a' }], false)).toThrow(/user first/);
  });
});
