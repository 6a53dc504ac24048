// The decoding loop on a scripted "model" (logits one-hot on the next scripted id) with a real
// SentencePiece tokenizer: stops on EOS, on stop strings and on length, and streams exactly the
// final text, never a stop string or half a character.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/generate.js';
import { loadTokenizer } from '../../src/text/load.js';

const tok = await loadTokenizer(join(import.meta.dirname, '../fixtures/tiny-vila/llm'));
const EOS = tok.eosId!;
const ids = (text: string): number[] => tok.encode(text, { addBos: false });

function scripted(script: number[]): { first: Float32Array; step: (id: number) => Float32Array } {
  let at = 0;
  const oneHot = (): Float32Array => {
    const l = new Float32Array(tok.vocabSize);
    l[script[Math.min(at, script.length - 1)]!] = 10;
    return l;
  };
  return { first: oneHot(), step: () => (at++, oneHot()) };
}

const greedy = { temperature: 0, topK: 0, topP: 1, seed: 0 };

function run(script: number[], maxNewTokens: number, stopStrings: string[] = []) {
  const m = scripted(script);
  const chunks: string[] = [];
  const r = generate(m.first, m.step, tok, { maxNewTokens, sampling: greedy, eosIds: [EOS], stopStrings, onText: (d) => chunks.push(d) });
  return { ...r, chunks };
}

describe('generate', () => {
  it('stops on EOS and keeps it in the ids, not in the text', () => {
    const hello = ids('Hello world');
    const r = run([...hello, EOS, ...ids('more')], 50);
    expect(r.outputIds).toEqual([...hello, EOS]);
    expect(r.text).toBe('Hello world');
    expect(r.stopReason).toBe('eos');
    expect(r.chunks.join('')).toBe('Hello world');
  });

  it('stops on a stop string split across tokens and streams none of it', () => {
    const script = ids('Hello STOP more');
    const r = run(script, 50, ['STOP']);
    expect(r.stopReason).toBe('stop_string');
    expect(r.text).toBe('Hello');
    expect(r.chunks.join('')).toBe('Hello');
    expect(r.outputIds.length).toBeLessThan(script.length);
  });

  it('never streams half a character of an emoji spread over byte pieces', () => {
    const script = ids('Hi 🙂 there');
    expect(script.filter((i) => /^<0x..>$/.test(tok.idToPiece(i))).length).toBe(4);
    const r = run(script, script.length);
    expect(r.text).toBe('Hi 🙂 there');
    expect(r.chunks.join('')).toBe(r.text);
    for (const c of r.chunks) expect(c).not.toContain('\uFFFD');
  });

  it('stops after maxNewTokens and streams the final text exactly', () => {
    const script = ids('one two three four five six');
    const r = run(script, 3);
    expect(r.outputIds).toEqual(script.slice(0, 3));
    expect(r.stopReason).toBe('length');
    expect(r.chunks.join('')).toBe(r.text);
    expect(r.text).toBe(tok.decode(script.slice(0, 3), { skipSpecialTokens: true }).trim());
  });

  it('ends when the context is full', () => {
    const m = scripted(ids('a b c d e'));
    let calls = 0;
    const r = generate(m.first, () => (++calls > 1 ? undefined : m.step(0)), tok, { maxNewTokens: 10, sampling: greedy, eosIds: [EOS] });
    expect(r.outputIds.length).toBe(2);
    expect(r.stopReason).toBe('length');
  });
});
