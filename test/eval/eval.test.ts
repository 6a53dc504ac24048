// Scoring a model (vila eval): the teacher-forced answer log-probabilities equal those of one
// forward pass over the whole answered conversation (every position's logits), a model's
// divergence from itself is zero, and text perplexity is exp of the mean next-token NLL.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR } from '../../src/default_model.js';
import { logSoftmax } from '../../src/eval/logprob.js';
import { answerIds, readQuestions, scoreQuestions } from '../../src/eval/questions.js';
import { scoreText } from '../../src/eval/text.js';
import { Model } from '../../src/model.js';

const heldout = join(import.meta.dirname, '../fixtures/vila-shapes-heldout/questions.jsonl');

describe('vila eval on vila-shapes', () => {
  let model: Model;
  let tmp: string;
  beforeAll(async () => {
    model = await Model.load(DEFAULT_MODEL_DIR, { backend: 'wasm', threads: 1 });
    tmp = mkdtempSync(join(tmpdir(), 'vila-eval-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the prompt is a prefix of the answered turn for every held-out question', () => {
    for (const q of readQuestions(heldout)) {
      const { prompt, answer } = answerIds(model, q);
      expect(prompt.length).toBeGreaterThan(0);
      expect(answer.at(-1)).toBe(model.tokenizer.eosId); // the turn ends with </s>
    }
  });

  it('teacher-forced answer log-probs equal one all-positions pass over the answered conversation', async () => {
    const q = readQuestions(heldout, 3)[2]!;
    const { prompt, answer } = answerIds(model, q);
    const pixels = await model.loadImages(q.images);
    const feats = pixels.map((p) => model.weights.encodeImage(model.backend, p));
    const embeds = model.weights.embedSpliced(model.backend, [...prompt, ...answer], feats);
    const L = embeds.shape[0]!;
    const V = model.config.llm.vocabSize;
    const all = model.weights.forward(model.backend, embeds, model.weights.newCache(L, model.backend), true).data;
    expect(all.length).toBe(L * V);
    // Positions L − |answer| − 1 … L − 2 predict the answer tokens.
    const { logits, cache } = await model.prefill({ prompt: q.question, images: q.images }, answer.length);
    const steps = [logits];
    for (const id of answer.slice(0, -1)) steps.push(model.weights.forwardTokens(model.backend, [id], cache).data);
    steps.forEach((s, j) => {
      const row = L - answer.length - 1 + j;
      const a = logSoftmax(all.subarray(row * V, (row + 1) * V));
      const b = logSoftmax(s);
      expect(Math.abs(a[answer[j]!]! - b[answer[j]!]!)).toBeLessThan(1e-4);
    });
  });

  it('scores questions: accuracy from greedy answers, perplexity ≥ 1, zero divergence from itself', async () => {
    const items = readQuestions(heldout, 12);
    const s = await scoreQuestions(model, items, { reference: model });
    expect(s.questions).toBe(12);
    expect(s.correct).toBe(s.answers.filter((a, i) => a === items[i]!.answer).length);
    expect(s.correct).toBeGreaterThanOrEqual(10);
    expect(s.perplexity).toBeGreaterThanOrEqual(1);
    expect(s.perplexity).toBeLessThan(1.5);
    expect(s.klVsReference).toBe(0);
    expect(s.klTextVsReference).toBe(0);
    expect(s.klPerQuestion).toEqual(new Array(12).fill(0));
    expect(s.answersDifferingFromReference).toBe(0);
    expect(Object.values(s.byKind).reduce((a, k) => a + k.questions, 0)).toBe(12);
  }, 60_000);

  it('scores a text: exp(mean NLL) over every next token of every block', () => {
    const file = join(tmp, 'text.txt');
    writeFileSync(file, 'How many circles are there? Two. What colour is the square? Red. Is there a star? No. '.repeat(8));
    const s = scoreText(model, file, { blockTokens: 64, reference: model });
    const ids = model.tokenizer.encode('How many circles are there? Two. What colour is the square? Red. Is there a star? No. '.repeat(8));
    expect(s.blocks).toBe(Math.floor(ids.length / 64));
    expect(s.tokens).toBe(s.blocks * 63);
    expect(s.perplexity).toBeGreaterThan(1);
    expect(Number.isFinite(s.perplexity)).toBe(true);
    expect(s.klVsReference).toBe(0);
    // The first block by hand, one token at a time through the cache.
    const part = ids.slice(0, 64);
    const cache = model.weights.newCache(64, model.backend);
    let nll = 0;
    for (let t = 0; t + 1 < 64; t++) nll -= logSoftmax(model.weights.forwardTokens(model.backend, [part[t]!], cache).data)[part[t + 1]!]!;
    const first = scoreText(model, file, { blockTokens: 64, maxBlocks: 1 });
    expect(Math.log(first.perplexity) * 63).toBeCloseTo(nll, 3);
  });
});
