// Writes a SentencePiece BPE `tokenizer.model` (ModelProto, google/sentencepiece
// src/sentencepiece_model.proto: pieces = 1, trainer_spec = 2, normalizer_spec = 3) for a Llama 2
// style vocabulary given in id order: <unk>, <s>, </s>, the 256 byte pieces <0x00>..<0xFF>, then
// the merged pieces. A BPE model merges, at each step, the adjacent pair whose merged piece has
// the highest score, so a merge list in priority order (Hugging Face's tokenizer.json, which its
// converter writes from the model's scores) gives back the scores: a merged piece scores −(rank of
// the first merge that makes it). Piece ids are not that order: Llama 2's whitespace pieces
// ("▁▁", id 259, ...) merge last. So the real Llama 2 vocabulary and merges rebuilt from
// llama-tokenizer-js become the published form of the 3B/13B tokenizer.
// Trainer fields that only training reads are left at their defaults.

const enum Wire {
  Varint = 0,
  Len = 2,
  Fixed32 = 5,
}

/** sentencepiece_model.proto SentencePiece.Type */
const enum PieceKind {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  Byte = 6,
}

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private key(field: number, wire: Wire): void {
    this.varint(field * 8 + wire);
  }
  private varint(v: number): void {
    // Negative int32 values are written as 10-byte two's complement, as protobuf does.
    let n = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      const b = Number(n & 0x7fn);
      n >>= 7n;
      out.push(n > 0n ? b | 0x80 : b);
    } while (n > 0n);
    this.parts.push(Uint8Array.from(out));
  }
  int(field: number, v: number): this {
    this.key(field, Wire.Varint);
    this.varint(v);
    return this;
  }
  bool(field: number, v: boolean): this {
    return this.int(field, v ? 1 : 0);
  }
  float(field: number, v: number): this {
    this.key(field, Wire.Fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, Wire.Len);
    this.varint(b.length);
    this.parts.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

const isByte = (p: string): boolean => /^<0x[0-9A-F]{2}>$/.test(p);

/**
 * A Llama 2 style BPE tokenizer.model for `pieces` (in id order) and `merges` ("left right" →
 * priority, lower first). Pieces no merge makes (single characters) score below every merge.
 */
export function llamaSentencePieceModel(pieces: readonly string[], merges: ReadonlyMap<string, number>): Uint8Array {
  if (pieces[0] !== '<unk>' || pieces[1] !== '<s>' || pieces[2] !== '</s>') throw new RangeError('expected <unk>, <s>, </s> at ids 0-2');
  const rank = new Map<string, number>();
  for (const [pair, priority] of merges) {
    const space = pair.indexOf(' ');
    const piece = pair.slice(0, space) + pair.slice(space + 1);
    if (!((rank.get(piece) ?? Infinity) <= priority)) rank.set(piece, priority);
  }
  const last = Math.max(0, ...rank.values()) + 1;
  const model = new ProtoWriter();
  pieces.forEach((piece, id) => {
    const kind = id === 0 ? PieceKind.Unknown : id < 3 ? PieceKind.Control : isByte(piece) ? PieceKind.Byte : PieceKind.Normal;
    const p = new ProtoWriter().string(1, piece).float(2, kind === PieceKind.Normal ? -(rank.get(piece) ?? last) : 0).int(3, kind);
    model.bytes(1, p.finish());
  });
  const trainer = new ProtoWriter()
    .int(3, 2) // model_type BPE
    .int(4, pieces.length) // vocab_size
    .bool(25, true) // split_digits
    .bool(35, true) // byte_fallback
    .int(40, 0) // unk_id
    .int(41, 1) // bos_id
    .int(42, 2) // eos_id
    .int(43, -1); // pad_id
  model.bytes(2, trainer.finish());
  const normalizer = new ProtoWriter()
    .string(1, 'identity')
    .bool(3, true) // add_dummy_prefix
    .bool(4, false) // remove_extra_whitespaces
    .bool(5, true); // escape_whitespaces
  model.bytes(3, normalizer.finish());
  return model.finish();
}
