// A SentencePiece processor: what the Python `sentencepiece.SentencePieceProcessor` does for
// encode (to pieces and ids) and decode, for BPE (Llama 2, the priority) and Unigram models.
// Mirrors google/sentencepiece src/sentencepiece_processor.cc v0.1.97-0.1.99: Encode normalizes,
// segments, then (PopulateSentencePieceText) expands unknown pieces into <0xAB> byte pieces when
// byte_fallback is on, or merges runs of unknown pieces into one when it is off; Decode turns "▁"
// back into spaces, drops control pieces, reassembles byte pieces into UTF-8 (a malformed byte
// becomes U+FFFD) and strips the first leading space when the normalizer added one.
// Input is a JS string, encoded to UTF-8 with TextEncoder: a lone surrogate becomes U+FFFD (the
// Python binding would raise instead); all other text is byte-for-byte what the C++ library sees.

import { ConfigError, InputError } from '../errors.js';
import { bpeEncode, type EncodedPiece } from './bpe.js';
import { Normalizer, PrefixMatcher } from './normalizer.js';
import {
  ModelType,
  PieceType,
  type NormalizerSpec,
  type SentencePieceModel,
} from './sentencepiece_model.js';
import { UnigramModel } from './unigram.js';
import { decodeBytesLikeSentencePiece } from './utf8.js';
import { Vocab, pieceToByte } from './vocab.js';

export type { EncodedPiece } from './bpe.js';

const SPACE_SYMBOL = '\u2581';
const encoder = new TextEncoder();

export interface ProcessorOptions {
  /** Overrides NormalizerSpec.add_dummy_prefix, as transformers' LlamaTokenizer(legacy=False) does. */
  addDummyPrefix?: boolean;
}

export class SentencePieceProcessor {
  readonly vocab: Vocab;
  readonly normalizerSpec: NormalizerSpec;
  private readonly normalizer: Normalizer;
  private readonly matcher: PrefixMatcher;
  private readonly unigram: UnigramModel | undefined;
  private readonly byteFallback: boolean;
  private readonly unkSurface: string;

  constructor(
    readonly model: SentencePieceModel,
    /** The file named in errors. */
    readonly where: string,
    opts: ProcessorOptions = {},
  ) {
    const type = model.trainerSpec.modelType;
    if (type !== ModelType.BPE && type !== ModelType.UNIGRAM) {
      const kind = type === ModelType.WORD ? 'WORD' : type === ModelType.CHAR ? 'CHAR' : 'unknown';
      throw new ConfigError(
        `trainer_spec.model_type ${type} (${kind}) is not supported; only BPE and UNIGRAM`,
        where,
      );
    }
    if ((model.denormalizerSpec?.precompiledCharsmap.length ?? 0) > 0) {
      throw new ConfigError(
        'denormalizer_spec.precompiled_charsmap (decode-time normalization) is not supported',
        where,
      );
    }
    this.vocab = new Vocab(model, where);
    this.normalizerSpec = {
      ...model.normalizerSpec,
      addDummyPrefix: opts.addDummyPrefix ?? model.normalizerSpec.addDummyPrefix,
    };
    this.matcher = new PrefixMatcher(this.vocab.userDefined);
    const suffix = model.trainerSpec.treatWhitespaceAsSuffix;
    this.normalizer = new Normalizer(this.normalizerSpec, suffix, this.matcher, where);
    this.unigram = type === ModelType.UNIGRAM ? new UnigramModel(this.vocab) : undefined;
    this.byteFallback = model.trainerSpec.byteFallback;
    this.unkSurface = model.trainerSpec.unkSurface;
  }

  get size(): number {
    return this.vocab.size;
  }

  idToPiece(id: number): string {
    const p = this.vocab.pieces[id];
    if (p === undefined || !Number.isInteger(id)) {
      throw new InputError(`token id ${id} is out of range [0, ${this.vocab.size})`, this.where);
    }
    return p;
  }

  /** SentencePieceProcessor::PieceToId: unknown pieces map to the unk id. */
  pieceToId(piece: string): number {
    return this.vocab.pieceToId(piece);
  }

  isControl(id: number): boolean {
    return this.vocab.isType(id, PieceType.CONTROL);
  }
  isUnknown(id: number): boolean {
    return this.vocab.isType(id, PieceType.UNKNOWN);
  }
  isByte(id: number): boolean {
    return this.vocab.isType(id, PieceType.BYTE);
  }

  /** Normalized text, as SentencePieceProcessor::Normalize would return it. */
  normalize(text: string): string {
    return this.normalizer.normalize(text);
  }

  /** Encodes text to pieces with their ids (`encode(text, out_type=str)` and `out_type=int` together). */
  encode(text: string): EncodedPiece[] {
    const normalized = this.normalizer.normalize(text);
    const segmented =
      this.unigram !== undefined
        ? this.unigram.encode(normalized)
        : bpeEncode(normalized, this.vocab, this.matcher);
    const out: EncodedPiece[] = [];
    let prevUnk = false;
    for (const p of segmented) {
      const unk = this.isUnknown(p.id);
      if (unk && this.byteFallback) {
        // An unknown piece becomes the byte pieces of its UTF-8 encoding.
        for (const b of encoder.encode(p.piece)) {
          const id = this.vocab.byteIds[b]!;
          out.push({ piece: this.vocab.pieces[id]!, id });
        }
      } else if (unk && prevUnk) {
        // Without byte fallback a run of unknown pieces is kept as one unknown piece.
        const last = out[out.length - 1]!;
        out[out.length - 1] = { piece: last.piece + p.piece, id: last.id };
      } else {
        out.push(p);
      }
      prevUnk = unk;
    }
    return out;
  }

  encodeIds(text: string): number[] {
    return this.encode(text).map((p) => p.id);
  }

  encodePieces(text: string): string[] {
    return this.encode(text).map((p) => p.piece);
  }

  /** SentencePieceProcessor::Decode on ids (ids out of range throw, like the C++ kOutOfRange). */
  decodeIds(ids: readonly number[]): string {
    return this.decodePieces(ids.map((id) => this.idToPiece(id)));
  }

  /**
   * SentencePieceProcessor::Decode on pieces: each piece is looked up with PieceToId, so a piece
   * string that is not in the vocabulary is treated as unknown and copied through verbatim.
   */
  decodePieces(pieces: readonly string[]): string {
    const spec = this.normalizerSpec;
    const stripsBosSpace = spec.addDummyPrefix || spec.removeExtraWhitespaces;
    let text = '';
    let bytes: number[] = [];
    const flushBytes = (): void => {
      if (bytes.length > 0) text += decodeBytesLikeSentencePiece(Uint8Array.from(bytes));
      bytes = [];
    };
    let isBosWs = true; // still at the start: a leading "▁" may be the dummy prefix
    let bosWsSeen = false;
    for (const piece of pieces) {
      const id = this.vocab.pieceToId(piece);
      if (this.isByte(id)) {
        bytes.push(pieceToByte(piece));
        continue;
      }
      flushBytes();
      if (bosWsSeen || text.length > 0) isBosWs = false;
      bosWsSeen = false;
      if (this.isControl(id)) continue; // <s>, </s>: invisible
      if (this.isUnknown(id)) {
        text += this.vocab.pieces[id] === piece ? this.unkSurface : piece;
        continue;
      }
      let p = piece;
      if (isBosWs && stripsBosSpace && p.startsWith(SPACE_SYMBOL)) {
        p = p.slice(1);
        // With remove_extra_whitespaces every leading "▁" piece is consumed, not just the first.
        bosWsSeen = !spec.removeExtraWhitespaces;
      }
      text += p.replaceAll(SPACE_SYMBOL, ' ');
    }
    flushBytes();
    return text;
  }
}
