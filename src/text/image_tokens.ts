// Prompt → input ids with image slots, as VILA 1.5's `tokenizer_image_token`
// (llava/mm_utils.py at NVlabs/VILA 48aadd5, May 2024): the prompt is split on "<image>", every
// chunk is tokenized on its own with `tokenizer(chunk).input_ids` (so each gets a BOS and, with
// legacy=False, each non-empty chunk starts as if preceded by a space, e.g. "\n..." → [29871, 13]),
// then if the first chunk starts with BOS one BOS is kept, the first token of every chunk is
// dropped, and IMAGE_TOKEN_INDEX goes between chunks. The model later replaces each -200 with the
// image's projected features (spec §5).

import type { Tokenizer } from './tokenizer.js';

/** llava/constants.py IMAGE_TOKEN_INDEX: the id standing for one image's embeddings. */
export const IMAGE_TOKEN_INDEX = -200;
/** The image marker in prompts (llava/constants.py DEFAULT_IMAGE_TOKEN). */
export const IMAGE_PLACEHOLDER = '<image>';
export const DEFAULT_IMAGE_TOKEN = IMAGE_PLACEHOLDER;

export function tokenizerImageToken(tok: Tokenizer, prompt: string): number[] {
  const chunks = prompt.split(IMAGE_PLACEHOLDER).map((chunk) => tok.encode(chunk));
  const first = chunks[0]!;
  // Upstream tests the first chunk only; with add_bos_token=false nothing is stripped anywhere.
  const offset = first.length > 0 && tok.bosId !== undefined && first[0] === tok.bosId ? 1 : 0;
  const ids: number[] = offset === 1 ? [first[0]!] : [];
  chunks.forEach((chunk, i) => {
    // The separator is [-200] * (offset + 1) and is sliced like a chunk: one -200 either way.
    if (i > 0) ids.push(IMAGE_TOKEN_INDEX);
    ids.push(...chunk.slice(offset));
  });
  return ids;
}

/** How many image slots a prompt's ids hold. */
export function countImageTokens(ids: readonly number[]): number {
  return ids.reduce((n, id) => n + (id === IMAGE_TOKEN_INDEX ? 1 : 0), 0);
}
