// The decoding loop on a scripted "model": stops on EOS, on stop strings and on length, and
// streams exactly the final text, never a stop string or half a character.

import { describe, expect, it } from 'vitest';
import { generate, type TokenDecoder } from '../../src/generate.js';

// Token i decodes to PIECES[i]; 0 is EOS (special, skipped).
const PIECES = ['</s>', ' Hello', ' wor', 'ld', '</', 's>', '!', ' ', '\uFFFD'];
const decoder: TokenDecoder = {
  decode: (ids, opts) => ids.filter((i) => !(opts?.skipSpecialTokens === true && i === 0)).map((i) => PIECES[i]!).join(''),
};

/** A model that emits `script` in order: logits one-hot on the next scripted id. */
function scripted(script: number[]): { first: Float32Array; step: (id: number) => Float32Array } {
  let at = 0;
  const oneHot = (): Float32Array => {
    const l = new Float32Array(PIECES.length);
    l[script[Math.min(at, script.length - 1)]!] = 10;
    return l;
  };
  return { first: oneHot(), step: () => (at++, oneHot()) };
}

const greedy = { temperature: 0, topK: 0, topP: 1, seed: 0 };

describe('generate', () => {
  it('stops on EOS and keeps it in the ids, not in the text', () => {
    const m = scripted([1, 2, 3, 0, 6]);
    const r = generate(m.first, m.step, decoder, { maxNewTokens: 10, sampling: greedy, eosIds: [0] });
    expect(r.outputIds).toEqual([1, 2, 3, 0]);
    expect(r.text).toBe('Hello world');
    expect(r.stopReason).toBe('eos');
  });

  it('stops on a stop string split across tokens and streams none of it', () => {
    const m = scripted([1, 4, 5, 6]);
    const chunks: string[] = [];
    const r = generate(m.first, m.step, decoder, { maxNewTokens: 10, sampling: greedy, eosIds: [], stopStrings: ['</s>'], onText: (d) => chunks.push(d) });
    expect(r.stopReason).toBe('stop_string');
    expect(r.text).toBe('Hello');
    expect(chunks.join('')).toBe('Hello');
  });

  it('stops after maxNewTokens and streams the final text exactly', () => {
    const m = scripted([1, 7, 2, 3, 6, 6, 6]);
    const chunks: string[] = [];
    const r = generate(m.first, m.step, decoder, { maxNewTokens: 5, sampling: greedy, eosIds: [0], onText: (d) => chunks.push(d) });
    expect(r.outputIds).toEqual([1, 7, 2, 3, 6]);
    expect(r.stopReason).toBe('length');
    expect(chunks.join('')).toBe(r.text);
    expect(r.text).toBe('Hello  world!');
  });

  it('holds back an incomplete character until it completes', () => {
    const m = scripted([1, 8, 6]);
    const seen: string[] = [];
    generate(m.first, m.step, decoder, { maxNewTokens: 2, sampling: greedy, eosIds: [], onText: (d) => seen.push(d) });
    expect(seen[0]).toBe('Hello');
  });

  it('ends when the context is full', () => {
    const m = scripted([1, 2, 3]);
    let calls = 0;
    const r = generate(m.first, () => (++calls > 1 ? undefined : m.step(0)), decoder, { maxNewTokens: 10, sampling: greedy, eosIds: [] });
    expect(r.outputIds.length).toBe(2);
    expect(r.stopReason).toBe('length');
  });
});
