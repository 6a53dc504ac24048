// SentencePiece's precompiled character map (NormalizerSpec.precompiled_charsmap), used by the
// nmt_nfkc / nfkc / *_cf normalization rules: a darts-clone double-array trie over UTF-8 byte
// strings whose values point into a blob of NUL-terminated replacement strings. Layout and lookup
// mirror google/sentencepiece src/normalizer.cc (DecodePrecompiledCharsMap, NormalizePrefix) and
// third_party/darts_clone/darts.h (DoubleArrayImpl::commonPrefixSearch). "identity" models (Llama 2)
// have an empty map and never reach this code.

import { FormatError } from '../errors.js';

/** normalizer.h kMaxTrieResultsSize: only the first 32 prefix matches are considered. */
const MAX_TRIE_RESULTS = 32;

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly normalized: Uint8Array;

  constructor(blob: Uint8Array, where: string) {
    // <trie size: u32 little-endian><double array of u32 units><replacement strings>
    if (blob.length <= 4) throw new FormatError('precompiled_charsmap is broken (too short)', where);
    const trieSize = new DataView(blob.buffer, blob.byteOffset, 4).getUint32(0, true);
    if (trieSize >= blob.length || 4 + trieSize > blob.length || trieSize % 4 !== 0) {
      throw new FormatError(`precompiled_charsmap trie size ${trieSize} exceeds the blob`, where);
    }
    // Copy so that the units are 4-byte aligned whatever the blob's offset in the file (the
    // Uint8Array constructor copies; Buffer#slice would not). Units are little-endian u32.
    const trie = new Uint8Array(blob.subarray(4, 4 + trieSize));
    const view = new DataView(trie.buffer);
    this.units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 * i, true);
    this.normalized = blob.subarray(4 + trieSize);
    if (this.units.length === 0) throw new FormatError('precompiled_charsmap has an empty trie', where);
  }

  /**
   * Longest rule matching a prefix of `input[pos..end)`: the number of input bytes it consumes and
   * its replacement bytes, or undefined when no rule matches.
   */
  match(input: Uint8Array, pos: number, end: number): { length: number; out: Uint8Array } | undefined {
    const u = this.units;
    let node = (u[0]! >>> 10) << ((u[0]! & (1 << 9)) >>> 6);
    let longestLength = 0;
    let longestValue = 0;
    let found = 0;
    for (let i = pos; i < end; i++) {
      const c = input[i]!;
      node ^= c;
      if (node >= u.length) break;
      const unit = u[node]!;
      // label(): low byte plus the leaf flag (bit 31), so a leaf unit never equals a byte.
      if ((unit & 0x800000ff) >>> 0 !== c) break;
      node ^= (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
      if (((unit >>> 8) & 1) === 1) {
        if (found < MAX_TRIE_RESULTS && node < u.length) {
          // Results come in increasing length, so the last one kept is the longest.
          longestLength = i + 1 - pos;
          longestValue = u[node]! & 0x7fffffff;
        }
        found++;
      }
    }
    if (longestLength === 0) return undefined;
    let stop = longestValue;
    while (stop < this.normalized.length && this.normalized[stop] !== 0) stop++;
    return { length: longestLength, out: this.normalized.subarray(longestValue, stop) };
  }
}
