// The piece table of a SentencePiece model with the lookups and load-time checks of
// google/sentencepiece src/model_interface.cc (InitializePieces, PieceToId): NORMAL, USER_DEFINED
// and UNUSED pieces are matchable from text; CONTROL, UNKNOWN and BYTE pieces are "reserved" and
// reachable only by id (or by exact piece lookup). A malformed table is a FormatError at load, as
// the C++ library refuses such a model.

import { FormatError } from '../errors.js';
import { PieceType, type SentencePieceModel } from './sentencepiece_model.js';

/** "<0xAB>" → 0xAB for the 256 byte pieces (model_interface.cc PieceToByte); -1 otherwise. */
export function pieceToByte(piece: string): number {
  if (piece.length !== 6 || !piece.startsWith('<0x') || piece[5] !== '>') return -1;
  const hex = piece.slice(3, 5);
  return /^[0-9A-F]{2}$/.test(hex) ? parseInt(hex, 16) : -1;
}

export function byteToPiece(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

export class Vocab {
  readonly pieces: readonly string[];
  readonly scores: Float32Array;
  readonly types: Uint8Array;
  readonly unkId: number;
  /** Byte value → id of its byte piece (only with byte_fallback). */
  readonly byteIds: Int32Array;
  private readonly matchable = new Map<string, number>();
  private readonly reserved = new Map<string, number>();
  readonly userDefined: string[] = [];

  constructor(model: SentencePieceModel, where: string) {
    const n = model.pieces.length;
    this.pieces = model.pieces.map((p) => p.piece);
    this.scores = new Float32Array(n);
    this.types = new Uint8Array(n);
    this.byteIds = new Int32Array(256).fill(-1);
    let unk = -1;
    for (let i = 0; i < n; i++) {
      const sp = model.pieces[i]!;
      this.scores[i] = sp.score;
      this.types[i] = sp.type;
      if (sp.piece.length === 0) throw new FormatError(`piece ${i} is empty`, where);
      const normal =
        sp.type === PieceType.NORMAL || sp.type === PieceType.USER_DEFINED || sp.type === PieceType.UNUSED;
      const table = normal ? this.matchable : this.reserved;
      if (table.has(sp.piece)) throw new FormatError(`piece "${sp.piece}" (id ${i}) is already defined`, where);
      table.set(sp.piece, i);
      if (sp.type === PieceType.USER_DEFINED) this.userDefined.push(sp.piece);
      if (sp.type === PieceType.UNKNOWN) {
        if (unk >= 0) throw new FormatError(`second unknown piece "${sp.piece}" (id ${i})`, where);
        unk = i;
      }
      if (sp.type === PieceType.BYTE) {
        if (!model.trainerSpec.byteFallback) {
          throw new FormatError(`byte piece ${sp.piece} found although byte_fallback is false`, where);
        }
        const b = pieceToByte(sp.piece);
        if (b < 0) throw new FormatError(`byte piece "${sp.piece}" (id ${i}) is invalid`, where);
        this.byteIds[b] = i;
      }
    }
    if (unk < 0) throw new FormatError('the model defines no unknown piece', where);
    if (model.trainerSpec.byteFallback && this.byteIds.includes(-1)) {
      throw new FormatError('byte_fallback is true but the model lacks some of the 256 byte pieces', where);
    }
    this.unkId = unk;
  }

  get size(): number {
    return this.pieces.length;
  }

  /** ModelInterface::PieceToId: reserved pieces first, then matchable ones, else the unk id. */
  pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.matchable.get(piece) ?? this.unkId;
  }

  /** Id of a piece that text may be segmented into (NORMAL, USER_DEFINED, UNUSED), or undefined. */
  matchableId(piece: string): number | undefined {
    return this.matchable.get(piece);
  }

  /** Exact lookup in both tables, without the unk fallback. */
  lookup(piece: string): number | undefined {
    return this.reserved.get(piece) ?? this.matchable.get(piece);
  }

  isType(id: number, type: PieceType): boolean {
    return this.types[id] === type;
  }
}
