// UTF-8 helpers with SentencePiece's exact rules (google/sentencepiece src/util.h, util.cc):
// a malformed byte becomes one U+FFFD and consumes one byte, which differs from TextDecoder's
// "maximal subpart" replacement (F0 9F 98 41 is three U+FFFD here, one in TextDecoder).

export const REPLACEMENT_CHAR = '\uFFFD';

/** util.h OneCharLen: the sequence length announced by a lead byte (1 for stray bytes). */
export function oneCharLen(lead: number): number {
  const hi = lead >> 4;
  return hi < 12 ? 1 : hi < 14 ? 2 : hi === 14 ? 3 : 4;
}

const isTrail = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;
const isValidCodepoint = (c: number): boolean => c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);

/**
 * util.cc DecodeUTF8 + IsValidDecodeUTF8: the code point at `pos` and its length, or
 * `undefined` code point (length 1) when the bytes there are not a well-formed character.
 * An encoded U+FFFD itself counts as valid.
 */
export function decodeUtf8Char(
  b: Uint8Array,
  pos: number,
  end: number,
): { cp: number | undefined; len: number } {
  const c0 = b[pos]!;
  const left = end - pos;
  if (c0 < 0x80) return { cp: c0, len: 1 };
  if (left >= 2 && (c0 & 0xe0) === 0xc0) {
    const cp = ((c0 & 0x1f) << 6) | (b[pos + 1]! & 0x3f);
    if (isTrail(b[pos + 1]) && cp >= 0x80 && isValidCodepoint(cp)) return { cp, len: 2 };
  } else if (left >= 3 && (c0 & 0xf0) === 0xe0) {
    const cp = ((c0 & 0x0f) << 12) | ((b[pos + 1]! & 0x3f) << 6) | (b[pos + 2]! & 0x3f);
    if (isTrail(b[pos + 1]) && isTrail(b[pos + 2]) && cp >= 0x800 && isValidCodepoint(cp)) {
      return { cp, len: 3 };
    }
  } else if (left >= 4 && (c0 & 0xf8) === 0xf0) {
    const cp =
      ((c0 & 0x07) << 18) |
      ((b[pos + 1]! & 0x3f) << 12) |
      ((b[pos + 2]! & 0x3f) << 6) |
      (b[pos + 3]! & 0x3f);
    if (
      isTrail(b[pos + 1]) &&
      isTrail(b[pos + 2]) &&
      isTrail(b[pos + 3]) &&
      cp >= 0x10000 &&
      isValidCodepoint(cp)
    ) {
      return { cp, len: 4 };
    }
  }
  return { cp: undefined, len: 1 };
}

/**
 * Bytes → text as sentencepiece_processor.cc ProcessBytePieces does for a run of byte pieces:
 * each well-formed character is kept, each malformed byte becomes U+FFFD.
 */
export function decodeBytesLikeSentencePiece(bytes: Uint8Array): string {
  let out = '';
  let pos = 0;
  while (pos < bytes.length) {
    const { cp, len } = decodeUtf8Char(bytes, pos, bytes.length);
    out += cp === undefined ? REPLACEMENT_CHAR : String.fromCodePoint(cp);
    pos += len;
  }
  return out;
}

/**
 * How many bytes at the end of `bytes` are the start of a character that is still missing
 * continuation bytes (0 when the sequence ends on a character boundary or on bytes that are
 * malformed whatever follows). Used by streaming decode to hold such a tail back.
 */
export function incompleteUtf8Tail(bytes: Uint8Array): number {
  // A character is at most 4 bytes, so only the last 3 bytes can start an unfinished one.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const lead = bytes[bytes.length - back]!;
    if ((lead & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 && lead < 0xe0 ? 2 : 1;
    if (need <= back) return 0; // complete (or a stray byte): nothing to wait for
    // Check that the bytes so far can still become a valid character (no overlong / surrogate /
    // out-of-range prefix), so a hopeless tail is not held back forever.
    const b1 = bytes[bytes.length - back + 1];
    if (b1 !== undefined) {
      if (lead === 0xe0 && b1 < 0xa0) return 0;
      if (lead === 0xed && b1 >= 0xa0) return 0;
      if (lead === 0xf0 && b1 < 0x90) return 0;
      if (lead === 0xf4 && b1 >= 0x90) return 0;
    }
    return back;
  }
  return 0;
}
