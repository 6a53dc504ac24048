// SentencePiece Unigram segmentation: the Viterbi best path over all vocabulary pieces, mirroring
// google/sentencepiece src/unigram_model.cc Model::EncodeOptimized (the default encoder since
// v0.1.9x). Scores are float32 log probabilities; the arithmetic follows the C++ types exactly
// (the candidate path score is a double compared against the stored float) so ties resolve the
// same way. User-defined pieces get length_in_bytes * max_score - 0.1 so they always win;
// a character no piece covers becomes an unk node scored min_score - 10.

import { PieceType } from './sentencepiece_model.js';
import type { EncodedPiece } from './bpe.js';
import type { Vocab } from './vocab.js';

const FLT_MIN = 1.1754943508222875e-38; // <cfloat> FLT_MIN, the (odd) initial max_score_
const UNK_PENALTY = 10;
const f32 = Math.fround;
const encoder = new TextEncoder();

export class UnigramModel {
  private readonly minScore: number;
  private readonly maxScore: number;
  /** Longest matchable piece, in UTF-16 units: bounds the lookups at each position. */
  private readonly maxLen: number;

  constructor(private readonly vocab: Vocab) {
    let min = 3.4028234663852886e38; // FLT_MAX
    let max = FLT_MIN;
    let maxLen = 1;
    for (let id = 0; id < vocab.size; id++) {
      const t = vocab.types[id];
      if (t === PieceType.NORMAL) {
        min = Math.min(min, vocab.scores[id]!);
        max = Math.max(max, vocab.scores[id]!);
      }
      if (t === PieceType.NORMAL || t === PieceType.USER_DEFINED || t === PieceType.UNUSED) {
        maxLen = Math.max(maxLen, vocab.pieces[id]!.length);
      }
    }
    this.minScore = min;
    this.maxScore = max;
    this.maxLen = maxLen;
  }

  encode(text: string): EncodedPiece[] {
    const n = text.length;
    if (n === 0) return [];
    const vocab = this.vocab;
    const unkScore = f32(this.minScore - UNK_PENALTY);
    // Best path ending at each position: its float32 score, start and last id (-1 = none yet).
    const bestScore = new Float32Array(n + 1);
    const startsAt = new Int32Array(n + 1).fill(-1);
    const lastId = new Int32Array(n + 1).fill(-1);

    for (let s = 0; s < n; ) {
      const charLen = text.codePointAt(s)! > 0xffff ? 2 : 1;
      const here = bestScore[s]!;
      let hasSingle = false;
      // The trie walk visits prefixes in increasing length; so do we.
      for (let len = 1; len <= this.maxLen && s + len <= n; len++) {
        const piece = text.slice(s, s + len);
        const id = vocab.matchableId(piece);
        if (id === undefined || vocab.isType(id, PieceType.UNUSED)) continue;
        const score = vocab.isType(id, PieceType.USER_DEFINED)
          ? f32(encoder.encode(piece).length * this.maxScore) - 0.1
          : vocab.scores[id]!;
        const candidate = score + here; // double, as in the C++ (ternary promotes to double)
        const e = s + len;
        if (startsAt[e] === -1 || candidate > bestScore[e]!) {
          bestScore[e] = candidate;
          startsAt[e] = s;
          lastId[e] = id;
        }
        if (len === charLen) hasSingle = true;
      }
      if (!hasSingle) {
        const e = s + charLen;
        const candidate = f32(unkScore + here); // float + float stays float
        if (startsAt[e] === -1 || candidate > bestScore[e]!) {
          bestScore[e] = candidate;
          startsAt[e] = s;
          lastId[e] = vocab.unkId;
        }
      }
      s += charLen;
    }

    const out: EncodedPiece[] = [];
    for (let e = n; e > 0; e = startsAt[e]!) {
      out.push({ piece: text.slice(startsAt[e], e), id: lastId[e]! });
    }
    return out.reverse();
  }
}
