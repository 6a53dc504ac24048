// Conversation templates against VILA's llava/conversation.py itself (executed by
// tools/tokenizer_goldens.py at NVlabs/VILA 48aadd5): single-turn, multi-turn, closed and
// empty-answer conversations for every template, with run_vila.py's stop string; plus the
// vicuna_v1 prompt spelled out in spec §5 and run_vila.py's "<image>\n" prepending.

import { describe, expect, it } from 'vitest';
import {
  TEMPLATES,
  chatPrompt,
  conversationTemplate,
  inferTemplateName,
  questionWithImages,
  renderConversation,
} from '../../src/text/conversation.js';
import { Mismatches, vilaGoldens } from './goldens.js';

const VICUNA_SYSTEM =
  'A chat between a curious user and an artificial intelligence assistant. ' +
  "The assistant gives helpful, detailed, and polite answers to the user's questions.";

describe('conversation templates', () => {
  it('render exactly like upstream get_prompt() for every template and conversation', () => {
    const cases = vilaGoldens().conversations;
    expect(cases.length).toBeGreaterThan(40);
    const m = new Mismatches();
    for (const c of cases) {
      const t = conversationTemplate(c.template);
      const messages = c.messages.map(([role, content]) => ({ role, content }));
      m.check(`${c.template}/${c.conversation} prompt`, c.messages, c.prompt, renderConversation(t, messages));
      // mistral's stop_str is "" upstream (which would make run_vila.py cut the whole answer);
      // an empty stop string is dropped here.
      m.check(`${c.template}/${c.conversation} stop`, c.template, c.stop ? [c.stop] : [], t.stopStrings);
    }
    m.assertNone();
  });

  it('builds the vicuna_v1 single-image prompt of spec §5', () => {
    const t = conversationTemplate('vicuna_v1');
    expect(chatPrompt(t, 'Describe the image.', 1)).toBe(
      `${VICUNA_SYSTEM} USER: <image>\nDescribe the image. ASSISTANT:`,
    );
    expect(t.stopStrings).toEqual(['</s>']);
  });

  it('renders vicuna_v1 multi-turn with </s> after each answer', () => {
    const t = conversationTemplate('vicuna_v1');
    const prompt = renderConversation(t, [
      { role: 'USER', content: '<image>\nWhat is it?' },
      { role: 'ASSISTANT', content: 'A cat.' },
      { role: 'USER', content: 'Its colour?' },
      { role: 'ASSISTANT', content: null },
    ]);
    expect(prompt).toBe(
      `${VICUNA_SYSTEM} USER: <image>\nWhat is it? ASSISTANT: A cat.</s>USER: Its colour? ASSISTANT:`,
    );
  });

  it('prepends "<image>\\n" per image only when the question has no <image> (run_vila.py)', () => {
    expect(questionWithImages('Compare.', 2)).toBe('<image>\n<image>\nCompare.');
    expect(questionWithImages('First <image> then', 2)).toBe('First <image> then');
    expect(questionWithImages('See <image-placeholder>', 1)).toBe('See <image>');
    expect(questionWithImages('Q', 1, { mmUseImStartEnd: true })).toBe('<im_start><image><im_end>\nQ');
    expect(questionWithImages('Text only', 0)).toBe('Text only');
  });

  it('passes text through with the plain and raw templates', () => {
    expect(chatPrompt(conversationTemplate('plain'), 'Hi', 1)).toBe('<image>\nHi\n');
    expect(chatPrompt(conversationTemplate('raw'), 'Hi <image>', 1)).toBe('Hi <image>');
    expect(conversationTemplate('raw').stopStrings).toEqual([]);
  });

  it('knows the VILA 1.5 templates and rejects unknown names', () => {
    for (const name of ['vicuna_v1', 'llama_3', 'llama_3_fix', 'hermes-2', 'plain']) expect(TEMPLATES.has(name)).toBe(true);
    expect(() => conversationTemplate('nope')).toThrow(/unknown conversation template "nope"/);
    expect(inferTemplateName('Efficient-Large-Model/VILA1.5-3b')).toBe('llava_v0');
    expect(inferTemplateName('llava-v1.5-7b')).toBe('llava_v1');
  });
});
