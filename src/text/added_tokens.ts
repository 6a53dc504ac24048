// Added tokens (special tokens such as <s>, </s>, <unk>, and tokens added after training) and how
// transformers' slow tokenizers cut them out of a text before SentencePiece sees it:
// transformers 4.36 tokenization_utils.py PreTrainedTokenizer.tokenize (Trie.split, then the
// AddedToken lstrip / rstrip / single_word rules). Each added token is matched verbatim (these
// tokens are `normalized: false`) and keeps its own id.

// Python's str.isspace() set, which str.lstrip()/rstrip() remove (JS trim() differs: it keeps
// U+001C..U+001F and U+0085 and removes U+FEFF).
const PY_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const LEADING_PY_SPACE = new RegExp(`^${PY_SPACE}+`);
const TRAILING_PY_SPACE = new RegExp(`${PY_SPACE}+$`);

/** transformers' AddedToken, as stored in tokenizer_config.json `added_tokens_decoder`. */
export interface AddedToken {
  readonly content: string;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly singleWord: boolean;
  readonly special: boolean;
}

/** A piece of the input: plain text for SentencePiece, or an added token. */
export interface Segment {
  readonly text: string;
  readonly added: boolean;
}

/**
 * Splits `text` at every added token, leftmost first and, among tokens starting at the same
 * place, longest first. For token sets where no token is a proper infix of another (Llama's
 * <unk>/<s>/</s>, chat markers) this is exactly what transformers' Trie.split returns; its
 * lookahead has quirks for overlapping tokens that are not reproduced.
 */
export function splitOnAddedTokens(text: string, tokens: ReadonlyMap<string, AddedToken>): string[] {
  if (tokens.size === 0 || text.length === 0) return [text];
  const byFirst = new Map<string, string[]>();
  for (const t of tokens.keys()) {
    if (t.length === 0) continue;
    const list = byFirst.get(t[0]!) ?? [];
    list.push(t);
    byFirst.set(t[0]!, list);
  }
  for (const list of byFirst.values()) list.sort((a, b) => b.length - a.length);

  const parts: string[] = [];
  let last = 0;
  for (let i = 0; i < text.length; ) {
    const hit = byFirst.get(text[i]!)?.find((t) => text.startsWith(t, i));
    if (hit === undefined) {
      i++;
      continue;
    }
    if (i > last) parts.push(text.slice(last, i));
    parts.push(hit);
    i += hit.length;
    last = i;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/**
 * tokenization_utils.py PreTrainedTokenizer.tokenize, the part between the trie split and the
 * model: applies each added token's strip rules to its neighbours (rstrip eats the spaces that
 * follow it, lstrip those before it; single_word glues a token to an adjacent word) and drops
 * pieces left empty.
 */
export function segmentText(text: string, tokens: ReadonlyMap<string, AddedToken>): Segment[] {
  const parts = splitOnAddedTokens(text, tokens);
  for (let i = 0; i < parts.length; i++) {
    // Upstream iterates over the list it edits, so membership is tested on the current string.
    const tok = tokens.get(parts[i]!);
    if (tok === undefined) continue;
    const left = i > 0 ? parts[i - 1] : undefined;
    const right = i < parts.length - 1 ? parts[i + 1] : undefined;
    if (tok.rstrip && right) parts[i + 1] = right.replace(LEADING_PY_SPACE, '');
    if (tok.lstrip && left) parts[i - 1] = left.replace(TRAILING_PY_SPACE, '');
    if (tok.singleWord && left && !left.endsWith(' ')) {
      parts[i - 1] += parts[i]!;
      parts[i] = '';
    } else if (tok.singleWord && right && !right.startsWith(' ')) {
      parts[i] += right;
      parts[i + 1] = '';
    }
  }
  const out: Segment[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.length === 0) continue;
    // As upstream, membership is re-checked on the final string, not remembered from the split.
    out.push({ text: p, added: tokens.has(p) });
  }
  return out;
}
