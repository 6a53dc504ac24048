// SentencePiece BPE segmentation, mirroring google/sentencepiece src/bpe_model.cc
// Model::SampleEncode with alpha = 0 (what Encode calls): the normalized text starts as single
// characters (or whole user-defined symbols, which are frozen); then, repeatedly, the adjacent pair
// whose concatenation is a vocabulary piece with the highest score is merged, the leftmost pair
// winning ties. Merges into UNUSED pieces are allowed and undone at the end (resegment). There are
// no merge rules: the piece scores are the merge order. A piece absent from the vocabulary comes
// out with the unk id; byte fallback happens later, in the processor.

import { PieceType } from './sentencepiece_model.js';
import type { PrefixMatcher } from './normalizer.js';
import type { Vocab } from './vocab.js';

export interface EncodedPiece {
  piece: string;
  id: number;
}

interface Candidate {
  left: number;
  right: number;
  score: number;
  /** Length of the merged piece when queued; a mismatch later means the entry is stale. */
  size: number;
}

/** bpe_model.cc SymbolPairComparator: higher score first, then smaller left index. */
function before(a: Candidate, b: Candidate): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

/** A binary max-heap ordered by `before` (std::priority_queue in the original). */
class Agenda {
  private readonly h: Candidate[] = [];
  get size(): number {
    return this.h.length;
  }
  push(c: Candidate): void {
    const h = this.h;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Candidate {
    const h = this.h;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Segments a normalized string into pieces. */
export function bpeEncode(text: string, vocab: Vocab, matcher: PrefixMatcher): EncodedPiece[] {
  if (text.length === 0) return [];
  // Symbols are [start, end) spans of `text` in a doubly linked list; a merged-away one is empty.
  const start: number[] = [];
  const end: number[] = [];
  const prev: number[] = [];
  const next: number[] = [];
  const freeze: boolean[] = [];
  for (let pos = 0; pos < text.length; ) {
    const user = matcher.matchString(text, pos);
    const cp = text.codePointAt(pos)!;
    const len = user > 0 ? user : cp > 0xffff ? 2 : 1;
    const i = start.length;
    start.push(pos);
    end.push(pos + len);
    freeze.push(user > 0);
    prev.push(i - 1);
    pos += len;
    next.push(pos < text.length ? i + 1 : -1);
  }

  const agenda = new Agenda();
  // Merged UNUSED piece → the two pieces it was made of (last writer wins, as in the original).
  const revMerge = new Map<string, [string, string]>();
  const maybeAdd = (left: number, right: number): void => {
    if (left === -1 || right === -1 || freeze[left] || freeze[right]) return;
    const piece = text.slice(start[left], end[right]);
    const id = vocab.matchableId(piece);
    if (id === undefined) return;
    agenda.push({ left, right, score: vocab.scores[id]!, size: piece.length });
    if (vocab.isType(id, PieceType.UNUSED)) {
      revMerge.set(piece, [text.slice(start[left], end[left]), text.slice(start[right], end[right])]);
    }
  };

  for (let i = 1; i < start.length; i++) maybeAdd(i - 1, i);

  while (agenda.size > 0) {
    const top = agenda.pop();
    const l = top.left;
    const r = top.right;
    const lLen = end[l]! - start[l]!;
    const rLen = end[r]! - start[r]!;
    if (lLen === 0 || rLen === 0 || lLen + rLen !== top.size) continue; // stale entry
    end[l] = end[r]!;
    next[l] = next[r]!;
    if (next[r]! >= 0) prev[next[r]!] = l;
    end[r] = start[r]!; // emptied
    maybeAdd(prev[l]!, l);
    maybeAdd(l, next[l]!);
  }

  const out: EncodedPiece[] = [];
  const resegment = (w: string): void => {
    const id = vocab.pieceToId(w);
    const parts = vocab.isType(id, PieceType.UNUSED) ? revMerge.get(w) : undefined;
    if (parts === undefined) {
      out.push({ piece: w, id });
      return;
    }
    resegment(parts[0]);
    resegment(parts[1]);
  };
  for (let i = 0; i !== -1; i = next[i]!) resegment(text.slice(start[i], end[i]));
  return out;
}
