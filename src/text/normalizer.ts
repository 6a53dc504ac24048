// SentencePiece's input normalizer: optional precompiled charsmap (NFKC and friends), removal of
// extra spaces, the dummy "▁" prefix, and escaping " " as "▁" (U+2581). Mirrors
// google/sentencepiece src/normalizer.cc Normalizer::Normalize / NormalizePrefix (v0.1.97-0.1.99,
// which agree). User-defined symbols are matched first and passed through unnormalized, like the
// PrefixMatcher the processor installs (sentencepiece_processor.cc Load → SetPrefixMatcher).
// Works on UTF-8 bytes because the charsmap trie is keyed by bytes.

import { PrecompiledCharsmap } from './charsmap.js';
import type { NormalizerSpec } from './sentencepiece_model.js';
import { decodeUtf8Char } from './utf8.js';

const SPACE = 0x20;
const SPACE_SYMBOL = new Uint8Array([0xe2, 0x96, 0x81]); // "▁" U+2581
const REPLACEMENT = new Uint8Array([0xef, 0xbf, 0xbd]);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // a leading U+FEFF is text, not a byte-order mark

/** Longest user-defined symbol at a position, on strings and on UTF-8 bytes (normalizer.cc PrefixMatcher). */
export class PrefixMatcher {
  private readonly byChar = new Map<number, string[]>();
  private readonly byByte = new Map<number, Uint8Array[]>();

  constructor(symbols: Iterable<string>) {
    for (const s of symbols) {
      if (s.length === 0) continue;
      const c = s.charCodeAt(0);
      (this.byChar.get(c) ?? this.byChar.set(c, []).get(c)!).push(s);
      const b = encoder.encode(s);
      (this.byByte.get(b[0]!) ?? this.byByte.set(b[0]!, []).get(b[0]!)!).push(b);
    }
    for (const list of this.byChar.values()) list.sort((a, b) => b.length - a.length);
    for (const list of this.byByte.values()) list.sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.byChar.size === 0;
  }

  /** UTF-16 length of the longest symbol starting at `pos`, or 0. */
  matchString(s: string, pos: number): number {
    const list = this.byChar.get(s.charCodeAt(pos));
    if (list === undefined) return 0;
    for (const sym of list) if (s.startsWith(sym, pos)) return sym.length;
    return 0;
  }

  /** Byte length of the longest symbol starting at `pos`, or 0. */
  matchBytes(b: Uint8Array, pos: number, end: number): number {
    const list = this.byByte.get(b[pos]!);
    if (list === undefined) return 0;
    outer: for (const sym of list) {
      if (sym.length > end - pos) continue;
      for (let i = 1; i < sym.length; i++) if (b[pos + i] !== sym[i]) continue outer;
      return sym.length;
    }
    return 0;
  }
}

/** A growable byte buffer. */
class Bytes {
  buf = new Uint8Array(64);
  length = 0;
  push(src: Uint8Array, from = 0, to = src.length): void {
    const n = to - from;
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(src.subarray(from, to), this.length);
    this.length += n;
  }
  endsWith(tail: Uint8Array): boolean {
    if (this.length < tail.length) return false;
    for (let i = 0; i < tail.length; i++) if (this.buf[this.length - tail.length + i] !== tail[i]) return false;
    return true;
  }
}

export class Normalizer {
  private readonly charsmap: PrecompiledCharsmap | undefined;

  constructor(
    private readonly spec: NormalizerSpec,
    private readonly treatWhitespaceAsSuffix: boolean,
    private readonly matcher: PrefixMatcher,
    where: string,
  ) {
    this.charsmap =
      spec.precompiledCharsmap.length > 0 ? new PrecompiledCharsmap(spec.precompiledCharsmap, where) : undefined;
  }

  /** NormalizePrefix: the normalized form of the next unit of `b` at `pos` and the bytes it consumes. */
  private prefix(b: Uint8Array, pos: number, end: number): { out: Uint8Array; len: number } {
    const user = this.matcher.matchBytes(b, pos, end);
    if (user > 0) return { out: b.subarray(pos, pos + user), len: user };
    const rule = this.charsmap?.match(b, pos, end);
    if (rule !== undefined) return { out: rule.out, len: rule.length };
    const { cp, len } = decodeUtf8Char(b, pos, end);
    // A malformed byte is replaced by U+FFFD but consumes only one byte.
    return cp === undefined ? { out: REPLACEMENT, len: 1 } : { out: b.subarray(pos, pos + len), len };
  }

  normalize(text: string): string {
    const input = encoder.encode(text);
    const end = input.length;
    const spec = this.spec;
    let pos = 0;
    if (spec.removeExtraWhitespaces) {
      // Leading spaces (after normalization) are dropped.
      while (pos < end) {
        const p = this.prefix(input, pos, end);
        if (!(p.out.length === 1 && p.out[0] === SPACE)) break;
        pos += p.len;
      }
    }
    if (pos >= end) return '';

    const out = new Bytes();
    const ws = spec.escapeWhitespaces ? SPACE_SYMBOL : new Uint8Array([SPACE]);
    if (!this.treatWhitespaceAsSuffix && spec.addDummyPrefix) out.push(ws);

    let prevSpace = spec.removeExtraWhitespaces;
    while (pos < end) {
      const p = this.prefix(input, pos, end);
      let from = 0;
      // Collapse runs: spaces right after a space are dropped.
      while (prevSpace && from < p.out.length && p.out[from] === SPACE) from++;
      if (from < p.out.length) {
        for (let i = from; i < p.out.length; i++) {
          if (spec.escapeWhitespaces && p.out[i] === SPACE) out.push(SPACE_SYMBOL);
          else out.push(p.out, i, i + 1);
        }
        prevSpace = p.out[p.out.length - 1] === SPACE;
      }
      pos += p.len;
      if (!spec.removeExtraWhitespaces) prevSpace = false;
    }

    if (spec.removeExtraWhitespaces) {
      while (out.endsWith(ws)) out.length -= ws.length;
    }
    if (this.treatWhitespaceAsSuffix && spec.addDummyPrefix) out.push(ws);
    return decoder.decode(out.buf.subarray(0, out.length));
  }
}
