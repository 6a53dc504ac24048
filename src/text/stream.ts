// Streaming detokenization: given all ids generated so far, return only the text that became
// final since the last call. Two things make this more than decoding the newest token:
// - a character split over several <0xAB> byte pieces (emoji, CJK under byte fallback) must not
//   be emitted half-done (decode would show U+FFFD for the missing bytes), so an unfinished UTF-8
//   tail of byte pieces is held back until it completes (or turns out malformed);
// - decoding is contextual (the first piece loses its leading "▁", skipped special tokens move
//   that "first piece", remove_extra_whitespaces eats every leading "▁"), so the ids are decoded
//   from the start each time and the new suffix is returned. Decoding a window instead (text-
//   generation-inference's prefix/read offsets) breaks on exactly those cases; the full decode
//   costs O(length) per token, negligible next to a forward pass.
// Concatenating every returned string (and `flush`) equals decode(ids) whenever the tokenizer's
// decode is prefix-stable, which holds for SentencePiece/Llama (clean_up_tokenization_spaces off).

import type { Tokenizer } from './tokenizer.js';
import { pieceToByte } from './vocab.js';
import { incompleteUtf8Tail } from './utf8.js';

/** The byte value of a base-vocabulary <0xAB> piece, or -1. */
function byteOf(tok: Tokenizer, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= tok.vocabSize) return -1;
  return pieceToByte(tok.idToPiece(id));
}

export class IncrementalDecoder {
  private emitted = '';
  private readIds = 0;

  constructor(
    private readonly tok: Tokenizer,
    private readonly opts: { skipSpecialTokens?: boolean } = {},
  ) {}

  /** Number of trailing ids that are the first bytes of a still-incomplete character. */
  private pendingTail(ids: readonly number[]): number {
    const bytes: number[] = [];
    for (let i = ids.length - 1; i >= 0 && bytes.length < 3; i--) {
      const b = byteOf(this.tok, ids[i]!);
      if (b < 0) break;
      bytes.unshift(b);
    }
    return incompleteUtf8Tail(Uint8Array.from(bytes));
  }

  private step(ids: readonly number[], end: number): string {
    if (end <= this.readIds) return '';
    const text = this.tok.decode(ids.slice(0, end), this.opts);
    if (!text.startsWith(this.emitted)) return ''; // not prefix-stable here: wait for more ids
    this.readIds = end;
    const fresh = text.slice(this.emitted.length);
    this.emitted = text;
    return fresh;
  }

  /** `ids` is the whole sequence so far (it must only ever grow); returns the new stable text. */
  next(ids: readonly number[]): string {
    return this.step(ids, ids.length - this.pendingTail(ids));
  }

  /** At the end of generation: everything not yet returned, incomplete characters included. */
  flush(ids: readonly number[]): string {
    return this.step(ids, ids.length);
  }
}
