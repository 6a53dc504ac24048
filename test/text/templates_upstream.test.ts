// The VILA 1.5 family's templates against the prompt strings upstream builds, quoted literally.
// Each string is the output of Conversation.get_prompt() after run_vila.py's
// append_message(roles[0], q); append_message(roles[1], None) (or the turns shown), from
// NVlabs/VILA's llava/conversation.py executed as is:
//   - vila1.5 branch, commit 6b941da19e31ddfdfaa60160908ccf0978d96615 (the file is identical at
//     48aadd5, the commit of the goldens): vicuna_v1, vicuna_v1_nosys, hermes-2, llama_3 (the
//     original template Llama-3-VILA1.5-8b was trained with; its assistant header reads "system").
//   - main, commit 54c970676ce96a5f7df372b5d25b2b98057716c2 ("Support LongVILA"), where llama_3 was
//     replaced by the corrected template of Llama-3-VILA1.5-8b-Fix: here llama_3_fix.
// Stop strings are run_vila.py's `stop_str = conv.sep if conv.sep_style != TWO else conv.sep2`
// (llava/eval/run_vila.py at both commits).

import { describe, expect, it } from 'vitest';
import { chatPrompt, conversationTemplate, renderConversation, type Message } from '../../src/text/conversation.js';

const MULTI = ['<image>\nWhat is shown?', 'A red square.', 'And the background?', null] as const;
const CLOSED = ['Hi', 'Hello!'] as const;

/** Alternating user/assistant turns with the template's own role strings. */
function turns(name: string, contents: readonly (string | null)[]): Message[] {
  const t = conversationTemplate(name);
  return contents.map((content, i) => ({ role: t.roles[i % 2]!, content }));
}

interface Case {
  single: string;
  multi: string;
  closed: string;
  stop: string[];
}

const UPSTREAM: Record<string, Case> = {
  // vila1.5 6b941da
  llama_3: {
    single:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.<|end_of_text|><|start_header_id|>user<|end_header_id|>\n\n<image>\nDescribe the image.<|end_of_text|><|start_header_id|>system<|end_header_id|>\n\n',
    multi:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.<|end_of_text|><|start_header_id|>user<|end_header_id|>\n\n<image>\nWhat is shown?<|end_of_text|><|start_header_id|>system<|end_header_id|>\n\nA red square.<|end_of_text|><|start_header_id|>user<|end_header_id|>\n\nAnd the background?<|end_of_text|><|start_header_id|>system<|end_header_id|>\n\n',
    closed:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.<|end_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|end_of_text|><|start_header_id|>system<|end_header_id|>\n\nHello!<|end_of_text|>',
    stop: ['<|end_of_text|>'],
  },
  // main 54c9706 (its "llama_3")
  llama_3_fix: {
    single:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n<image>\nDescribe the image.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    multi:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n<image>\nWhat is shown?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA red square.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnd the background?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    closed:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|end_of_text|>',
    stop: ['<|eot_id|>'],
  },
  // vila1.5 6b941da
  'hermes-2': {
    single:
      '<|im_start|>system\nAnswer the questions.<|im_end|><|im_start|>user\n<image>\nDescribe the image.<|im_end|><|im_start|>assistant\n',
    multi:
      '<|im_start|>system\nAnswer the questions.<|im_end|><|im_start|>user\n<image>\nWhat is shown?<|im_end|><|im_start|>assistant\nA red square.<|im_end|><|im_start|>user\nAnd the background?<|im_end|><|im_start|>assistant\n',
    closed: '<|im_start|>system\nAnswer the questions.<|im_end|><|im_start|>user\nHi<|im_end|><|im_start|>assistant\nHello!<|im_end|>',
    stop: ['<|im_end|>'],
  },
  // vila1.5 6b941da: with a system prompt ...
  vicuna_v1: {
    single:
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: <image>\nDescribe the image. ASSISTANT:",
    multi:
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: <image>\nWhat is shown? ASSISTANT: A red square.</s>USER: And the background? ASSISTANT:",
    closed:
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: Hi ASSISTANT: Hello!</s>",
    stop: ['</s>'],
  },
  // ... and without one (the leading space is upstream's: system "" + sep " ").
  vicuna_v1_nosys: {
    single: ' USER: <image>\nDescribe the image. ASSISTANT:',
    multi: ' USER: <image>\nWhat is shown? ASSISTANT: A red square.</s>USER: And the background? ASSISTANT:',
    closed: ' USER: Hi ASSISTANT: Hello!</s>',
    stop: ['</s>'],
  },
};

describe.each(Object.entries(UPSTREAM))('template %s', (name, want) => {
  const t = conversationTemplate(name);

  it('builds run_vila.py single-image prompt (the "<image>\\n" prepended to the question)', () => {
    expect(chatPrompt(t, 'Describe the image.', 1)).toBe(want.single);
  });

  it('renders a multi-turn conversation with an open assistant turn', () => {
    expect(renderConversation(t, turns(name, MULTI))).toBe(want.multi);
  });

  it('renders a closed conversation', () => {
    expect(renderConversation(t, turns(name, CLOSED))).toBe(want.closed);
  });

  it('stops on run_vila.py stop_str', () => {
    expect(t.stopStrings).toEqual(want.stop);
  });
});

describe('Llama 3 template names', () => {
  it('keeps both versions apart and accepts spelled-out aliases', () => {
    expect(conversationTemplate('llama_3').roles[1]).toBe('<|start_header_id|>system<|end_header_id|>\n\n');
    expect(conversationTemplate('llama_3_fix').roles[1]).toBe('<|start_header_id|>assistant<|end_header_id|>\n\n');
    expect(conversationTemplate('llama_3_original')).toBe(conversationTemplate('llama_3'));
    expect(conversationTemplate('llama_3-Fix')).toBe(conversationTemplate('llama_3_fix'));
  });

  it('puts the images of several-image prompts in the user turn', () => {
    expect(chatPrompt(conversationTemplate('llama_3_fix'), 'Compare.', 2)).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n<image>\n<image>\nCompare.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });
});
