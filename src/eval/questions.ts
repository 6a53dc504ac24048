// Quality of a model on a question set (one {"images": [...], "question", "answer", "kind"?} per
// line, image paths relative to the file): greedy exact-match accuracy, and the answer's
// perplexity (the answer tokens and the end of the turn, teacher-forced after the prompt). Given
// a reference model (the full-precision one a quantized model came from), also the mean
// KL(reference ‖ model) over those same positions: the most sensitive of the three to what
// quantization changed.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { InputError } from '../errors.js';
import type { Model } from '../model.js';
import { questionWithImages, renderConversation } from '../text/conversation.js';
import { tokenizerImageToken } from '../text/image_tokens.js';
import { klDivergence, logSoftmax } from './logprob.js';

export interface QuestionItem {
  readonly images: readonly string[];
  readonly question: string;
  readonly answer: string;
  readonly kind: string;
}

export function readQuestions(file: string, limit = Infinity): QuestionItem[] {
  if (!existsSync(file)) throw new InputError('question file does not exist', file);
  const items: QuestionItem[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length && items.length < limit; i++) {
    const l = lines[i]!.trim();
    if (l === '') continue;
    let o: { images?: unknown; question?: unknown; answer?: unknown; kind?: unknown };
    try {
      o = JSON.parse(l) as typeof o;
    } catch (e) {
      throw new InputError(`line ${i + 1} is not JSON: ${(e as Error).message}`, file);
    }
    const images = o.images ?? [];
    if (typeof o.question !== 'string' || typeof o.answer !== 'string' || !Array.isArray(images) || !images.every((p) => typeof p === 'string')) {
      throw new InputError(`line ${i + 1} needs "question" and "answer" strings and "images" a list of paths`, file);
    }
    items.push({
      images: (images as string[]).map((p) => (isAbsolute(p) ? p : join(dirname(file), p))),
      question: o.question,
      answer: o.answer,
      kind: typeof o.kind === 'string' ? o.kind : 'all',
    });
  }
  if (items.length === 0) throw new InputError('no questions', file);
  return items;
}

export interface QuestionScores {
  readonly questions: number;
  readonly correct: number;
  readonly accuracy: number;
  /** Teacher-forced answer tokens scored (the end of turn included). */
  readonly answerTokens: number;
  /** exp(mean negative log-likelihood of the answer tokens). */
  readonly perplexity: number;
  /** Mean KL(reference ‖ model) in nats per answer token, when a reference was given. */
  readonly klVsReference?: number;
  /** Questions the reference and the model answer differently, when a reference was given. */
  readonly answersDifferingFromReference?: number;
  readonly byKind: Record<string, { correct: number; questions: number }>;
  readonly answers: string[];
}

/** The prompt ids and the ids of the answer turn that follow them (end-of-turn included). */
export function answerIds(model: Model, q: QuestionItem): { prompt: number[]; answer: number[] } {
  const prompt = model.inputIds({ prompt: q.question, images: q.images });
  const t = model.template;
  const full = tokenizerImageToken(
    model.tokenizer,
    renderConversation(t, [
      { role: t.roles[0], content: questionWithImages(q.question, q.images.length) },
      { role: t.roles[1], content: q.answer },
    ]),
  );
  if (full.length <= prompt.length || prompt.some((id, i) => full[i] !== id)) {
    throw new InputError(`the prompt's tokens are not a prefix of the answered turn's for "${q.question}"`);
  }
  return { prompt, answer: full.slice(prompt.length) };
}

/** Log-probabilities at each answer position, teacher-forced. */
async function answerLogProbs(model: Model, q: QuestionItem, ids: { answer: number[] }): Promise<Float64Array[]> {
  const { logits, cache } = await model.prefill({ prompt: q.question, images: q.images }, ids.answer.length);
  const out = [logSoftmax(logits)];
  for (const id of ids.answer.slice(0, -1)) out.push(logSoftmax(model.weights.forwardTokens(model.backend, [id], cache).data));
  return out;
}

export async function scoreQuestions(
  model: Model, items: readonly QuestionItem[], opts: { reference?: Model; onProgress?: (done: number, total: number) => void } = {},
): Promise<QuestionScores> {
  let correct = 0;
  let nll = 0;
  let tokens = 0;
  let kl = 0;
  let differ = 0;
  const byKind: Record<string, { correct: number; questions: number }> = {};
  const answers: string[] = [];
  for (const [i, q] of items.entries()) {
    const r = await model.generate({ prompt: q.question, images: q.images, maxNewTokens: 32, sampling: { temperature: 0 } });
    const text = r.text.trim();
    answers.push(text);
    const ok = text === q.answer;
    if (ok) correct++;
    const k = (byKind[q.kind] ??= { correct: 0, questions: 0 });
    k.questions++;
    if (ok) k.correct++;
    const ids = answerIds(model, q);
    const lp = await answerLogProbs(model, q, ids);
    lp.forEach((l, j) => (nll -= l[ids.answer[j]!]!));
    tokens += ids.answer.length;
    if (opts.reference !== undefined) {
      const ref = await answerLogProbs(opts.reference, q, ids);
      ref.forEach((l, j) => (kl += klDivergence(l, lp[j]!)));
      const refAnswer = await opts.reference.generate({ prompt: q.question, images: q.images, maxNewTokens: 32, sampling: { temperature: 0 } });
      if (refAnswer.text.trim() !== text) differ++;
    }
    opts.onProgress?.(i + 1, items.length);
  }
  return {
    questions: items.length,
    correct,
    accuracy: correct / items.length,
    answerTokens: tokens,
    perplexity: Math.exp(nll / tokens),
    ...(opts.reference === undefined ? {} : { klVsReference: kl / tokens, answersDifferingFromReference: differ }),
    byKind,
    answers,
  };
}
