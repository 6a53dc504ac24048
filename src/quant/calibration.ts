// Calibration data for AWQ (spec/awq.md §1.2): what the decoder sees while its activation
// statistics are gathered. llm-awq feeds VILA-1.5's LLM plain text (pile-val, 128 blocks of 512
// tokens); a plain-text file does the same here. A .jsonl file of conversations with pictures
// (one {"images": [...], "question": ..., "answer": ...} per line, image paths relative to the
// file) calibrates on what a VILA model is actually shown: image tokens and a chat turn.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { InputError } from '../errors.js';
import type { Model } from '../model.js';
import type { F32Tensor } from '../tensor.js';
import { chatPrompt, questionWithImages, renderConversation } from '../text/conversation.js';
import { tokenizerImageToken } from '../text/image_tokens.js';

export interface CalibrationOptions {
  /** Tokens per block cut from a text file (llm-awq: 512). */
  readonly blockTokens?: number;
  /** Blocks (text) or conversations (jsonl) used at most (llm-awq: 128). */
  readonly maxSamples?: number;
}

/** One calibration sequence: ids with IMAGE_TOKEN_INDEX (−200) where each image goes. */
export interface CalibrationSample {
  readonly ids: readonly number[];
  readonly images: readonly string[];
}

interface ConversationLine {
  images?: unknown;
  question?: unknown;
  answer?: unknown;
}

/** A conversation line → the full turn as the model was trained on it (question, then answer). */
function conversationSample(model: Model, line: ConversationLine, where: string, base: string): CalibrationSample {
  if (typeof line.question !== 'string') throw new InputError('calibration line has no "question" string', where);
  if (line.answer !== undefined && typeof line.answer !== 'string') throw new InputError('"answer" must be a string', where);
  const images = line.images ?? [];
  if (!Array.isArray(images) || !images.every((p): p is string => typeof p === 'string')) {
    throw new InputError('"images" must be a list of file paths', where);
  }
  const paths = images.map((p) => (isAbsolute(p) ? p : join(base, p)));
  for (const p of paths) if (!existsSync(p)) throw new InputError(`image ${p} does not exist`, where);
  const t = model.template;
  const text =
    line.answer === undefined
      ? chatPrompt(t, line.question, paths.length)
      : renderConversation(t, [
          { role: t.roles[0], content: questionWithImages(line.question, paths.length) },
          { role: t.roles[1], content: line.answer },
        ]);
  return { ids: tokenizerImageToken(model.tokenizer, text), images: paths };
}

/** Read a calibration file (.txt: plain text cut into blocks; .jsonl: conversations with pictures). */
export function readCalibration(model: Model, file: string, opts: CalibrationOptions = {}): CalibrationSample[] {
  const block = opts.blockTokens ?? 512;
  const max = opts.maxSamples ?? 128;
  if (!Number.isInteger(block) || block < 2) throw new InputError(`calibration block must be a whole number ≥ 2 tokens, got ${block}`);
  if (!Number.isInteger(max) || max < 1) throw new InputError(`calibration samples must be a whole number ≥ 1, got ${max}`);
  if (!existsSync(file)) throw new InputError('calibration file does not exist', file);
  const text = readFileSync(file, 'utf8');
  const samples: CalibrationSample[] = [];
  if (extname(file).toLowerCase() === '.jsonl') {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length && samples.length < max; i++) {
      const l = lines[i]!.trim();
      if (l === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(l);
      } catch (e) {
        throw new InputError(`line ${i + 1} is not JSON: ${(e as Error).message}`, file);
      }
      if (typeof parsed !== 'object' || parsed === null) throw new InputError(`line ${i + 1} is not a JSON object`, file);
      samples.push(conversationSample(model, parsed as ConversationLine, `${file}:${i + 1}`, dirname(file)));
    }
  } else {
    // llm-awq (calib_data.py): the texts are tokenized, concatenated and cut into equal blocks.
    const ids = model.tokenizer.encode(text);
    for (let at = 0; at + block <= ids.length && samples.length < max; at += block) samples.push({ ids: ids.slice(at, at + block), images: [] });
    if (samples.length === 0) throw new InputError(`calibration text has ${ids.length} tokens, less than one block of ${block}`, file);
  }
  if (samples.length === 0) throw new InputError('calibration file has no samples', file);
  for (const s of samples) model.weights.checkPrompt(s.ids, s.images.length);
  return samples;
}

/** The decoder's input for one sample: token embeddings with its pictures spliced in (L, d). */
export async function calibrationEmbeds(model: Model, s: CalibrationSample): Promise<F32Tensor> {
  const pixels = await model.loadImages(s.images);
  const features = pixels.map((p, i) => model.weights.encodeImage(model.backend, p, `calib.image${i}`));
  return model.weights.embedSpliced(model.backend, s.ids, features);
}
