// A minimal reader for the protobuf wire format, enough for SentencePiece's ModelProto: varints,
// length-delimited fields (strings, bytes, sub-messages), fixed32 (float) and fixed64 (skipped).
// Groups (wire types 3/4) are deprecated and never used by sentencepiece_model.proto, so they are
// rejected. Every malformed input throws a FormatError naming the file and the byte offset, so a
// truncated tokenizer.model is reported instead of silently yielding a partial vocabulary.
// Wire format reference: the protobuf "Encoding" programming guide.

import { FormatError } from '../errors.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** One field as read from the wire: its number, wire type and where its payload lies. */
export interface WireField {
  readonly field: number;
  readonly wireType: number;
  /** Varint payload (wire type 0); 0 otherwise. Values above 2^53 lose precision (unused here). */
  readonly varint: number;
  /** The low 32 bits of the varint as a signed integer: a proto int32 (negative ones are sent as
   * 10-byte two's-complement varints, e.g. pad_id = -1). */
  readonly int32: number;
  /** Payload bytes for wire types 1, 2 and 5 (a view into the input, not a copy). */
  readonly bytes: Uint8Array;
}

// ignoreBOM: a piece that is U+FEFF (the real Llama 2 vocabulary has one, id 30143) must not decode as empty.
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

export class ProtoReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    /** File (and message path) named in errors, e.g. "dir/tokenizer.model (trainer_spec)". */
    private readonly where: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private fail(what: string): never {
    throw new FormatError(`malformed protobuf: ${what} at byte ${this.pos}`, this.where);
  }

  private lastLow32 = 0;

  private readVarint(): number {
    let result = 0;
    let scale = 1;
    let low = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (i < 5) low |= (b & 0x7f) << (7 * i); // bits past 32 fall off the int32 shift
      if ((b & 0x80) === 0) {
        this.lastLow32 = low | 0;
        return result;
      }
      scale *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  private take(n: number, what: string): Uint8Array {
    if (n > this.buf.length - this.pos) this.fail(`truncated ${what} (needs ${n} bytes)`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads the next field (tag and payload). */
  next(): WireField {
    const tag = this.readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) this.fail('field number 0');
    switch (wireType) {
      case WIRE_VARINT:
        return { field, wireType, varint: this.readVarint(), int32: this.lastLow32, bytes: EMPTY };
      case WIRE_FIXED64:
        return { field, wireType, varint: 0, int32: 0, bytes: this.take(8, 'fixed64') };
      case WIRE_LEN: {
        const len = this.readVarint();
        return { field, wireType, varint: 0, int32: 0, bytes: this.take(len, 'length-delimited field') };
      }
      case WIRE_FIXED32:
        return { field, wireType, varint: 0, int32: 0, bytes: this.take(4, 'fixed32') };
      default:
        return this.fail(`unsupported wire type ${wireType} (field ${field})`);
    }
  }
}

/** Checks a field's wire type, naming the field in the error. */
export function expectWire(f: WireField, wireType: number, name: string, where: string): void {
  if (f.wireType !== wireType) {
    throw new FormatError(
      `field ${name} (#${f.field}) has wire type ${f.wireType}, expected ${wireType}`,
      where,
    );
  }
}

export function asString(f: WireField): string {
  return utf8.decode(f.bytes);
}

/** A proto `float` (fixed32, little-endian IEEE 754 single). */
export function asFloat(f: WireField): number {
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}
