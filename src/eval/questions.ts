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
import { IMAGE_TOKEN_INDEX, tokenizerImageToken } from '../text/image_tokens.js';
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
  /** Mean KL(reference ‖ model) over every text position after the last picture (question and answer). */
  readonly klTextVsReference?: number;
  /** Per question, the mean answer-token KL (for paired comparisons of two models). */
  readonly klPerQuestion?: number[];
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

/**
 * One pass over the answered conversation (pictures spliced in), teacher-forced: the
 * log-probabilities at every text position after the last picture, each predicting the next
 * token; the last `answer.length` of them predict the answer.
 */
async function conversationLogProbs(model: Model, q: QuestionItem, ids: { prompt: number[]; answer: number[] }): Promise<Float64Array[]> {
  const pixels = await model.loadImages(q.images);
  const feats = pixels.map((p, i) => model.weights.encodeImage(model.backend, p, `image${i}`));
  const embeds = model.weights.embedSpliced(model.backend, [...ids.prompt, ...ids.answer], feats);
  const L = embeds.shape[0]!;
  const V = model.config.llm.vocabSize;
  const logits = model.weights.forward(model.backend, embeds, model.weights.newCache(L, model.backend), true).data;
  const lastImage = ids.prompt.lastIndexOf(IMAGE_TOKEN_INDEX);
  // Text ids after the last picture: their spliced rows are the last ones.
  const textAfter = ids.prompt.length + ids.answer.length - (lastImage + 1);
  const out: Float64Array[] = [];
  for (let r = L - textAfter; r < L - 1; r++) out.push(logSoftmax(logits.subarray(r * V, (r + 1) * V)));
  return out;
}

export async function scoreQuestions(
  model: Model, items: readonly QuestionItem[], opts: { reference?: Model; onProgress?: (done: number, total: number) => void } = {},
): Promise<QuestionScores> {
  let correct = 0;
  let nll = 0;
  let tokens = 0;
  let kl = 0;
  let klText = 0;
  let textTokens = 0;
  const klPerQuestion: number[] = [];
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
    const lp = await conversationLogProbs(model, q, ids);
    const first = lp.length - ids.answer.length; // rows predicting the answer
    ids.answer.forEach((id, j) => (nll -= lp[first + j]![id]!));
    tokens += ids.answer.length;
    if (opts.reference !== undefined) {
      const ref = await conversationLogProbs(opts.reference, q, ids);
      let qAnswer = 0;
      ref.forEach((l, r) => {
        const d = klDivergence(l, lp[r]!);
        klText += d;
        if (r >= first) qAnswer += d;
      });
      textTokens += ref.length;
      kl += qAnswer;
      klPerQuestion.push(qAnswer / ids.answer.length);
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
    ...(opts.reference === undefined
      ? {}
      : { klVsReference: kl / tokens, klTextVsReference: klText / textTokens, klPerQuestion, answersDifferingFromReference: differ }),
    byKind,
    answers,
  };
}
