// The tokenizer interface the rest of vila-ts uses. Semantics follow transformers' slow
// tokenizers (the ones VILA loads with use_fast=False): `encode` is `tokenizer(text).input_ids`,
// `tokenize` is `tokenizer.tokenize(text)`, `decode` is `tokenizer.decode(ids, ...)`.

export interface Tokenizer {
  /** Size of the base vocabulary (`tokenizer.vocab_size`), not counting tokens added after it. */
  readonly vocabSize: number;
  /** `len(tokenizer.get_vocab())`: the base vocabulary plus the added tokens numbered after it; ids run 0 … size − 1. */
  readonly size: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unkId: number;
  /** tokenizer_config.json add_bos_token (LlamaTokenizer default true). */
  readonly addBos: boolean;
  /** tokenizer_config.json add_eos_token (LlamaTokenizer default false). */
  readonly addEos: boolean;

  /** `tokenizer(text).input_ids`: BOS (unless disabled) + the text's ids (+ EOS if add_eos_token). */
  encode(text: string, opts?: { addBos?: boolean }): number[];
  /** `tokenizer.tokenize(text)`: the pieces, special tokens included as their text. */
  tokenize(text: string): string[];
  /** `tokenizer.decode(ids, skip_special_tokens=...)`. */
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  idToPiece(id: number): string;
  pieceToId(piece: string): number | undefined;
  /** Whether the id is one of `tokenizer.all_special_ids` (what skip_special_tokens drops). */
  isSpecial(id: number): boolean;
}
