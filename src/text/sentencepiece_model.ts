// SentencePiece's model file (`tokenizer.model`): a serialized ModelProto. Field numbers and
// defaults mirror google/sentencepiece src/sentencepiece_model.proto (v0.1.99); only the fields
// that affect encoding and decoding are kept, the trainer's other knobs are skipped. Unknown
// fields are skipped as protobuf requires; a sub-message that occurs twice is merged (later
// scalars win), which is what protobuf's MergeFrom does and what transformers relies on when it
// rewrites `add_dummy_prefix` (tokenization_llama.py get_spm_processor).

import { readFile } from 'node:fs/promises';
import { ConfigError, FormatError } from '../errors.js';
import {
  ProtoReader,
  WIRE_FIXED32,
  WIRE_LEN,
  WIRE_VARINT,
  asFloat,
  asString,
  expectWire,
  type WireField,
} from './protobuf.js';

/** ModelProto.SentencePiece.Type. */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** TrainerSpec.ModelType. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;
export type ModelType = (typeof ModelType)[keyof typeof ModelType];

export interface SentencePiece {
  piece: string;
  /** float32 score: log probability (Unigram) or merge priority (BPE, higher merges first). */
  score: number;
  type: PieceType;
}

export interface TrainerSpec {
  modelType: ModelType;
  vocabSize: number;
  splitDigits: boolean;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  allowWhitespaceOnlyPieces: boolean;
  splitByWhitespace: boolean;
  maxSentencepieceLength: number;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  unkPiece: string;
  bosPiece: string;
  eosPiece: string;
  padPiece: string;
  /** What the decoder prints for <unk>; proto default " \u2047 " (spaced DOUBLE QUESTION MARK). */
  unkSurface: string;
  userDefinedSymbols: string[];
  controlSymbols: string[];
}

export interface NormalizerSpec {
  name: string;
  /** Darts double-array trie + replacement strings (normalizer.cc); empty for "identity". */
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  normalizationRuleTsv: string;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
  /** Present only when the file has one (spm_train --decode_normalization_rule_tsv). */
  denormalizerSpec: NormalizerSpec | undefined;
}

function defaultTrainerSpec(): TrainerSpec {
  return {
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    splitDigits: false,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    allowWhitespaceOnlyPieces: false,
    splitByWhitespace: true,
    maxSentencepieceLength: 16,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: '<unk>',
    bosPiece: '<s>',
    eosPiece: '</s>',
    padPiece: '<pad>',
    unkSurface: ' \u2047 ',
    userDefinedSymbols: [],
    controlSymbols: [],
  };
}

function defaultNormalizerSpec(): NormalizerSpec {
  return {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
    normalizationRuleTsv: '',
  };
}

function parsePiece(bytes: Uint8Array, where: string): SentencePiece {
  const out: SentencePiece = { piece: '', score: 0, type: PieceType.NORMAL };
  const r = new ProtoReader(bytes, where);
  while (!r.done) {
    const f = r.next();
    if (f.field === 1) {
      expectWire(f, WIRE_LEN, 'piece', where);
      out.piece = asString(f);
    } else if (f.field === 2) {
      expectWire(f, WIRE_FIXED32, 'score', where);
      out.score = asFloat(f);
    } else if (f.field === 3) {
      expectWire(f, WIRE_VARINT, 'type', where);
      if (f.varint < 1 || f.varint > 6) {
        throw new FormatError(`piece "${out.piece}" has unknown type ${f.varint}`, where);
      }
      out.type = f.varint as PieceType;
    }
  }
  return out;
}

type Setter<T> = (target: T, f: WireField, where: string) => void;

const bool =
  <T>(key: { [K in keyof T]: T[K] extends boolean ? K : never }[keyof T]): Setter<T> =>
  (t, f, where) => {
    expectWire(f, WIRE_VARINT, String(key), where);
    (t[key] as boolean) = f.varint !== 0;
  };
const int =
  <T>(key: { [K in keyof T]: T[K] extends number ? K : never }[keyof T]): Setter<T> =>
  (t, f, where) => {
    expectWire(f, WIRE_VARINT, String(key), where);
    (t[key] as number) = f.int32;
  };
const str =
  <T>(key: { [K in keyof T]: T[K] extends string ? K : never }[keyof T]): Setter<T> =>
  (t, f, where) => {
    expectWire(f, WIRE_LEN, String(key), where);
    (t[key] as string) = asString(f);
  };
const strList =
  <T>(key: { [K in keyof T]: T[K] extends string[] ? K : never }[keyof T]): Setter<T> =>
  (t, f, where) => {
    expectWire(f, WIRE_LEN, String(key), where);
    (t[key] as string[]).push(asString(f));
  };

/** TrainerSpec field number → setter (sentencepiece_model.proto). */
const TRAINER_FIELDS: ReadonlyMap<number, Setter<TrainerSpec>> = new Map<number, Setter<TrainerSpec>>([
  [3, int('modelType')],
  [4, int('vocabSize')],
  [20, int('maxSentencepieceLength')],
  [22, bool('splitByWhitespace')],
  [24, bool('treatWhitespaceAsSuffix')],
  [25, bool('splitDigits')],
  [26, bool('allowWhitespaceOnlyPieces')],
  [30, strList('controlSymbols')],
  [31, strList('userDefinedSymbols')],
  [35, bool('byteFallback')],
  [40, int('unkId')],
  [41, int('bosId')],
  [42, int('eosId')],
  [43, int('padId')],
  [44, str('unkSurface')],
  [45, str('unkPiece')],
  [46, str('bosPiece')],
  [47, str('eosPiece')],
  [48, str('padPiece')],
]);

/** NormalizerSpec field number → setter. */
const NORMALIZER_FIELDS: ReadonlyMap<number, Setter<NormalizerSpec>> = new Map<
  number,
  Setter<NormalizerSpec>
>([
  [1, str('name')],
  [
    2,
    (t, f, where) => {
      expectWire(f, WIRE_LEN, 'precompiled_charsmap', where);
      t.precompiledCharsmap = new Uint8Array(f.bytes); // a copy, not a view of the file
    },
  ],
  [3, bool('addDummyPrefix')],
  [4, bool('removeExtraWhitespaces')],
  [5, bool('escapeWhitespaces')],
  [6, str('normalizationRuleTsv')],
]);

function mergeMessage<T>(
  target: T,
  bytes: Uint8Array,
  fields: ReadonlyMap<number, Setter<T>>,
  where: string,
): void {
  const r = new ProtoReader(bytes, where);
  while (!r.done) {
    const f = r.next();
    fields.get(f.field)?.(target, f, where);
  }
}

/** Parses a serialized ModelProto. `file` is named in every error. */
export function parseSentencePieceModel(bytes: Uint8Array, file: string): SentencePieceModel {
  const pieces: SentencePiece[] = [];
  const trainerSpec = defaultTrainerSpec();
  const normalizerSpec = defaultNormalizerSpec();
  let denormalizerSpec: NormalizerSpec | undefined;
  const r = new ProtoReader(bytes, file);
  while (!r.done) {
    const f = r.next();
    switch (f.field) {
      case 1:
        expectWire(f, WIRE_LEN, 'pieces', file);
        pieces.push(parsePiece(f.bytes, `${file} (pieces[${pieces.length}])`));
        break;
      case 2:
        expectWire(f, WIRE_LEN, 'trainer_spec', file);
        mergeMessage(trainerSpec, f.bytes, TRAINER_FIELDS, `${file} (trainer_spec)`);
        break;
      case 3:
        expectWire(f, WIRE_LEN, 'normalizer_spec', file);
        mergeMessage(normalizerSpec, f.bytes, NORMALIZER_FIELDS, `${file} (normalizer_spec)`);
        break;
      case 5:
        expectWire(f, WIRE_LEN, 'denormalizer_spec', file);
        denormalizerSpec ??= defaultNormalizerSpec();
        mergeMessage(denormalizerSpec, f.bytes, NORMALIZER_FIELDS, `${file} (denormalizer_spec)`);
        break;
      default:
        break; // self_test_data (4) and unknown fields
    }
  }
  if (pieces.length === 0) throw new FormatError('model has no pieces', file);
  return { pieces, trainerSpec, normalizerSpec, denormalizerSpec };
}

/** Reads and parses a tokenizer.model file. */
export async function readSentencePieceModel(file: string): Promise<SentencePieceModel> {
  let bytes: Uint8Array;
  try {
    const buf = await readFile(file);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT' ? 'SentencePiece model not found' : `cannot read: ${String(e)}`,
      file,
    );
  }
  return parseSentencePieceModel(bytes, file);
}
