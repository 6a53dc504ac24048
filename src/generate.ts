// The decoding loop: sample a token from the last logits, feed it back, stop on an EOS id, on a
// stop string (VILA's KeywordsStoppingCriteria) or after maxNewTokens, and stream the text as it
// becomes stable. The final text is decoded as run_vila.py does: special tokens skipped,
// whitespace stripped, a trailing stop string removed.

import { Sampler, type SamplingOptions } from './sampling.js';
import { IncrementalDecoder } from './text/stream.js';
import type { Tokenizer } from './text/tokenizer.js';

export interface GenerateOptions {
  readonly maxNewTokens: number;
  readonly sampling: SamplingOptions;
  readonly eosIds: readonly number[];
  readonly stopStrings?: readonly string[];
  /** Text as it is generated: each call gets the new, stable part. */
  readonly onText?: (delta: string) => void;
  readonly onToken?: (id: number) => void;
}

export type StopReason = 'eos' | 'stop_string' | 'length';

export interface GenerateResult {
  /** The generated ids, including the EOS id when generation ended on one. */
  readonly outputIds: number[];
  readonly text: string;
  readonly stopReason: StopReason;
}

/**
 * Generate from `firstLogits` (the prompt's last position). `step(id)` feeds one token and
 * returns the next logits, or undefined when the context is full.
 */
export function generate(
  firstLogits: Float32Array,
  step: (id: number) => Float32Array | undefined,
  tokenizer: Tokenizer,
  opts: GenerateOptions,
): GenerateResult {
  const sampler = new Sampler(opts.sampling);
  const stops = (opts.stopStrings ?? []).filter((s) => s.length > 0);
  const ids: number[] = [];
  const stream = new TextStream(tokenizer, stops, opts.onText);
  let logits: Float32Array | undefined = firstLogits;
  let reason: StopReason = 'length';
  while (ids.length < opts.maxNewTokens && logits !== undefined) {
    const id = sampler.next(logits);
    ids.push(id);
    opts.onToken?.(id);
    if (opts.eosIds.includes(id)) {
      reason = 'eos';
      break;
    }
    if (stream.push(ids)) {
      reason = 'stop_string';
      break;
    }
    if (ids.length < opts.maxNewTokens) logits = step(id);
  }
  const text = finalText(tokenizer, ids, stops);
  stream.finish(text);
  return { outputIds: ids, text, stopReason: reason };
}

/** run_vila.py: decode with skip_special_tokens, strip, drop a trailing stop string, strip. */
export function finalText(tokenizer: Tokenizer, ids: readonly number[], stops: readonly string[]): string {
  let text = tokenizer.decode(ids, { skipSpecialTokens: true }).trim();
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0) text = text.slice(0, at);
  }
  return text.trim();
}

/**
 * Streaming with stop strings: the tokenizer's IncrementalDecoder gives the text that is final
 * (no half characters); on top of it, leading whitespace (the final text is stripped) and a tail
 * that could be the start of a stop string are held back until they resolve.
 */
class TextStream {
  private readonly decoder: IncrementalDecoder;
  private text = '';
  private emitted = 0;

  constructor(
    tokenizer: Tokenizer,
    private readonly stops: readonly string[],
    private readonly onText?: (delta: string) => void,
  ) {
    this.decoder = new IncrementalDecoder(tokenizer, { skipSpecialTokens: true });
  }

  /** Returns true when a stop string has appeared. */
  push(ids: readonly number[]): boolean {
    this.text += this.decoder.next(ids);
    const text = this.text.trimStart();
    let end = text.length;
    let stopped = false;
    for (const s of this.stops) {
      const at = text.indexOf(s);
      if (at >= 0) {
        end = Math.min(end, at);
        stopped = true;
      }
    }
    if (!stopped) {
      for (const s of this.stops) {
        for (let k = Math.min(s.length - 1, end); k > 0; k--) {
          if (text.endsWith(s.slice(0, k))) {
            end = Math.min(end, text.length - k);
            break;
          }
        }
      }
    }
    this.emit(text.slice(0, end));
    return stopped;
  }

  finish(text: string): void {
    this.emit(text);
  }

  private emit(stable: string): void {
    // Whitespace is only emitted once something follows it (the final text is trimmed).
    const trimmed = stable.trimEnd();
    if (this.onText === undefined || trimmed.length <= this.emitted) return;
    this.onText(trimmed.slice(this.emitted));
    this.emitted = trimmed.length;
  }
}
