// Perplexity of a model's LLM on a plain text: tokenized once (BOS first), cut into blocks of
// `blockTokens`, each block run from an empty cache with the logits of every position; the
// score is exp(mean negative log-likelihood of each next token), as llm-awq and lm-eval's
// wikitext perplexity compute it. With a reference model, also the mean KL(reference ‖ model).

import { existsSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { Model } from '../model.js';
import { klDivergence, logSoftmax } from './logprob.js';

export interface TextScores {
  readonly blocks: number;
  readonly tokens: number;
  readonly perplexity: number;
  readonly klVsReference?: number;
}

function blockLogits(model: Model, ids: readonly number[]): Float32Array {
  const cache = model.weights.newCache(ids.length, model.backend);
  const embeds = model.weights.embedSpliced(model.backend, ids, []);
  return model.weights.forward(model.backend, embeds, cache, true).data;
}

export function scoreText(
  model: Model, file: string, opts: { blockTokens?: number; maxBlocks?: number; reference?: Model; onProgress?: (done: number, total: number) => void } = {},
): TextScores {
  if (!existsSync(file)) throw new InputError('text file does not exist', file);
  const block = opts.blockTokens ?? Math.min(512, model.config.modelMaxLength);
  const ids = model.tokenizer.encode(readFileSync(file, 'utf8'));
  const blocks = Math.min(Math.floor(ids.length / block), opts.maxBlocks ?? Infinity);
  if (blocks < 1) throw new InputError(`the text has ${ids.length} tokens, less than one block of ${block}`, file);
  const V = model.config.llm.vocabSize;
  let nll = 0;
  let kl = 0;
  let n = 0;
  for (let b = 0; b < blocks; b++) {
    const part = ids.slice(b * block, (b + 1) * block);
    const logits = blockLogits(model, part);
    const ref = opts.reference === undefined ? undefined : blockLogits(opts.reference, part);
    for (let t = 0; t + 1 < part.length; t++) {
      const lp = logSoftmax(logits.subarray(t * V, (t + 1) * V));
      nll -= lp[part[t + 1]!]!;
      if (ref !== undefined) kl += klDivergence(logSoftmax(ref.subarray(t * V, (t + 1) * V)), lp);
      n++;
    }
    opts.onProgress?.(b + 1, blocks);
  }
  return { blocks, tokens: n, perplexity: Math.exp(nll / n), ...(opts.reference === undefined ? {} : { klVsReference: kl / n }) };
}
