// transformers' slow LlamaTokenizer (use_fast=False), as VILA 1.5 loads it with legacy=False
// (llava/model/language_model/builder.py). Behaviour mirrors transformers 4.36:
// - tokenization_llama.py: with legacy=False the SentencePiece model is reloaded with
//   add_dummy_prefix=False (get_spm_processor); `tokenize` replaces "▁" in the text by " ",
//   prepends one "▁" to the whole text, and drops that "▁" again when a special token follows it;
//   `_tokenize` encodes a chunk that starts with "▁"/" " as unk_token + chunk and removes the
//   unk token's pieces (so the chunk's own leading space survives without a dummy prefix), and
//   any other chunk (text right after a special token) as-is: no "▁" is added there.
//   `convert_tokens_to_string` drops the first token's leading "▁" and emits special tokens verbatim.
// - tokenization_utils.py: added tokens are split out first (see added_tokens.ts); ids of added
//   tokens come from added_tokens_decoder; `_decode` keeps added non-special tokens apart and
//   joins the parts with " " (spaces_between_special_tokens defaults to True in `_decode`).
// With legacy=True the model keeps its dummy prefix and chunks are encoded directly.

import { InputError } from '../errors.js';
import { segmentText, type AddedToken } from './added_tokens.js';
import type { SentencePieceModel } from './sentencepiece_model.js';
import { SentencePieceProcessor } from './sentencepiece.js';
import type { Tokenizer } from './tokenizer.js';
import { SPECIAL_TOKEN_ATTRIBUTES, type TokenizerConfig } from './tokenizer_config.js';
import { cleanUpTokenization } from './clean_up.js';

const SPIECE_UNDERLINE = '\u2581';

export interface LlamaTokenizerOptions {
  /** transformers' `legacy` flag. VILA passes legacy=False, the default here. */
  legacy?: boolean;
  /**
   * Tokens added after loading with `tokenizer.add_tokens(tokens, special_tokens=True)`, as VILA's
   * builder does for <im_patch> when mm_use_im_patch_token is set.
   */
  extraSpecialTokens?: readonly string[];
}


export class LlamaTokenizer implements Tokenizer {
  readonly sp: SentencePieceProcessor;
  readonly legacy: boolean;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unkId: number;
  /** `all_special_tokens`: the special-token attributes plus additional_special_tokens. */
  readonly specialTokens: ReadonlySet<string>;
  private readonly specialIds: ReadonlySet<number>;
  private readonly addedDecoder = new Map<number, AddedToken>();
  private readonly addedEncoder = new Map<string, number>();
  private readonly addedByContent = new Map<string, AddedToken>();
  /** Added tokens that `_decode` keeps out of convert_tokens_to_string. */
  private readonly legacyAddedTokens: ReadonlySet<string>;
  private readonly unkToken: string;
  private readonly unkTokenLength: number;
  private readonly cleanUp: boolean;

  constructor(
    model: SentencePieceModel,
    config: TokenizerConfig,
    where: string,
    opts: LlamaTokenizerOptions = {},
  ) {
    this.legacy = opts.legacy ?? false;
    this.sp = new SentencePieceProcessor(model, where, this.legacy ? {} : { addDummyPrefix: false });
    this.addBos = config.addBosToken;
    this.addEos = config.addEosToken;
    this.cleanUp = config.cleanUpTokenizationSpaces;

    // PreTrainedTokenizer.__init__: saved added tokens first, then the special tokens not yet
    // among them (in SPECIAL_TOKENS_ATTRIBUTES order), then tokens added at run time.
    for (const [id, tok] of config.addedTokensDecoder) this.setAdded(id, tok);
    const extended: AddedToken[] = [];
    for (const attr of SPECIAL_TOKEN_ATTRIBUTES) {
      const t = config.special[attr];
      if (t !== undefined) extended.push(t);
    }
    extended.push(...config.additionalSpecialTokens);
    const special = new Set<string>(extended.map((t) => t.content));
    const additional = config.additionalSpecialTokens.map((t) => t.content);
    for (const t of extended) if (!this.addedEncoder.has(t.content)) this.addToken({ ...t, special: true });
    for (const content of opts.extraSpecialTokens ?? []) {
      if (this.addedEncoder.has(content)) continue;
      this.addToken({ content, lstrip: false, rstrip: false, singleWord: false, special: true });
      // _add_tokens registers a new special token as an additional special token.
      special.add(content);
      additional.push(content);
    }
    this.specialTokens = special;
    this.specialIds = new Set([...special].map((t) => this.tokenToId(t)));

    const unk = config.special.unk_token?.content;
    this.unkToken = unk ?? '';
    this.unkId = unk === undefined ? this.sp.vocab.unkId : this.tokenToId(unk);
    const bos = config.special.bos_token?.content;
    const eos = config.special.eos_token?.content;
    this.bosId = bos === undefined ? undefined : this.tokenToId(bos);
    this.eosId = eos === undefined ? undefined : this.tokenToId(eos);
    this.unkTokenLength = this.sp.encode(this.unkToken).length;

    // PreTrainedTokenizer._decode: added tokens that are not special, plus additional special
    // tokens outside the base vocabulary, are decoded apart from the SentencePiece pieces.
    const legacyAdded = new Set([...this.addedEncoder.keys()].filter((t) => !special.has(t)));
    for (const t of additional) if (this.tokenToId(t) >= this.vocabSize) legacyAdded.add(t);
    this.legacyAddedTokens = legacyAdded;
  }

  private setAdded(id: number, tok: AddedToken): void {
    this.addedDecoder.set(id, tok);
    this.addedEncoder.set(tok.content, id);
    this.addedByContent.set(tok.content, tok);
  }

  /** PreTrainedTokenizer._add_tokens: reuse the vocabulary id of an existing piece, else append. */
  private addToken(tok: AddedToken): void {
    let id = this.sp.vocab.lookup(tok.content);
    if (id === undefined || this.addedDecoder.has(id)) {
      id = this.size;
    }
    this.setAdded(id, tok);
  }

  get vocabSize(): number {
    return this.sp.size;
  }

  /** len(get_vocab()): base pieces plus the added tokens that are not base pieces. */
  get size(): number {
    return this.sp.size + [...this.addedDecoder.keys()].filter((i) => i >= this.sp.size).length;
  }

  /** convert_tokens_to_ids: added tokens first, then SentencePiece (unknown → unk id). */
  private tokenToId(token: string): number {
    return this.addedEncoder.get(token) ?? this.sp.pieceToId(token);
  }

  pieceToId(piece: string): number | undefined {
    return this.addedEncoder.get(piece) ?? this.sp.vocab.lookup(piece);
  }

  idToPiece(id: number): string {
    return this.addedDecoder.get(id)?.content ?? this.sp.idToPiece(id);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** LlamaTokenizer._tokenize on one chunk of plain text. */
  private tokenizeChunk(text: string): string[] {
    if (this.legacy || !(text.startsWith(SPIECE_UNDERLINE) || text.startsWith(' '))) {
      return this.sp.encodePieces(text);
    }
    // Encoding "<unk>" + text keeps text's leading "▁" as a real space (the model has no dummy
    // prefix any more), and the unk token's own pieces are then cut off by count.
    const pieces = this.sp.encodePieces(this.unkToken + text);
    return pieces.length >= this.unkTokenLength ? pieces.slice(this.unkTokenLength) : pieces;
  }

  tokenize(text: string): string[] {
    if (this.legacy || text.length === 0) return this.tokenizeAdded(text);
    const tokens = this.tokenizeAdded(SPIECE_UNDERLINE + text.replaceAll(SPIECE_UNDERLINE, ' '));
    if (tokens.length > 1 && tokens[0] === SPIECE_UNDERLINE && this.specialTokens.has(tokens[1]!)) {
      return tokens.slice(1);
    }
    return tokens;
  }

  /** PreTrainedTokenizer.tokenize: split out added tokens, SentencePiece for the rest. */
  private tokenizeAdded(text: string): string[] {
    const out: string[] = [];
    for (const seg of segmentText(text, this.addedByContent)) {
      if (seg.added) out.push(seg.text);
      else out.push(...this.tokenizeChunk(seg.text));
    }
    return out;
  }

  encode(text: string, opts: { addBos?: boolean } = {}): number[] {
    const ids = this.tokenize(text).map((t) => this.tokenToId(t));
    const bos = opts.addBos ?? this.addBos;
    if (bos && this.bosId !== undefined) ids.unshift(this.bosId);
    if (this.addEos && this.eosId !== undefined) ids.push(this.eosId);
    return ids;
  }

  /** LlamaTokenizer.convert_tokens_to_string. */
  private tokensToString(tokens: string[]): string {
    if (tokens[0]!.startsWith(SPIECE_UNDERLINE)) tokens[0] = tokens[0]!.slice(1);
    let out = '';
    let sub: string[] = [];
    let prevIsSpecial = false;
    tokens.forEach((token, i) => {
      if (this.specialTokens.has(token)) {
        if (!prevIsSpecial && i !== 0 && this.legacy) out += ' ';
        out += this.sp.decodePieces(sub) + token;
        prevIsSpecial = true;
        sub = [];
      } else {
        sub.push(token);
        prevIsSpecial = false;
      }
    });
    return out + this.sp.decodePieces(sub);
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const skip = opts.skipSpecialTokens ?? false;
    const tokens: string[] = [];
    for (const id of ids) {
      if (!Number.isInteger(id)) throw new InputError(`token id ${id} is not an integer`);
      if (skip && this.specialIds.has(id)) continue;
      tokens.push(this.idToPiece(id));
    }
    const parts: string[] = [];
    let current: string[] = [];
    for (const token of tokens) {
      if (this.legacyAddedTokens.has(token)) {
        if (current.length > 0) {
          const s = this.tokensToString(current);
          if (s.length > 0) parts.push(s);
          current = [];
        }
        parts.push(token);
      } else {
        current.push(token);
      }
    }
    if (current.length > 0) parts.push(this.tokensToString(current));
    const text = parts.join(' ');
    return this.cleanUp ? cleanUpTokenization(text) : text;
  }
}
