// Which conversation template a VILA 1.5 folder gets when --conv-mode is not given: the one its
// model card passes to run_vila.py (upstream's own name-based guess, inferTemplateName, picks
// llava_v0 for every VILA 1.5 name and is not used).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Enough of a tokenizer to tell the families apart by their special tokens. */
export interface VocabLookup {
  pieceToId(piece: string): number | undefined;
}

/**
 * "fix" as a word of a name: Llama-3-VILA1.5-8b-Fix, Llama-3-VILA1.5-8b-Fix-AWQ,
 * llama-3-vila1.5-8b-fix-w4-g128-awq-v2.pt (spec §1) — not "prefix" or "fixture".
 */
const FIX_WORD = /(^|[^a-z0-9])fix([^a-z0-9]|$)/i;

export function namesSayFix(names: readonly string[]): boolean {
  return names.some((n) => FIX_WORD.test(n));
}

/**
 * ChatML tokens → hermes-2 (40B, Yi); Llama 3 header tokens → llama_3_fix when a folder name
 * says "Fix", else llama_3 (the original template: the VILA 1.5 README at 48aadd5 runs
 * Efficient-Large-Model/Llama-3-VILA1.5-8b with --conv-mode llama_3, which then was the original);
 * otherwise the Llama-2 / Vicuna family → vicuna_v1 (3B, 3B-S2, 13B).
 */
export function defaultConvMode(tokenizer: VocabLookup, folderNames: readonly string[] = []): string {
  if (tokenizer.pieceToId('<|im_end|>') !== undefined) return 'hermes-2';
  if (tokenizer.pieceToId('<|start_header_id|>') !== undefined) {
    return namesSayFix(folderNames) ? 'llama_3_fix' : 'llama_3';
  }
  return 'vicuna_v1';
}

function nameOrPath(configFile: string): string | undefined {
  if (!existsSync(configFile)) return undefined;
  try {
    const v = (JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>)['_name_or_path'];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined; // the config loader reports broken configs
  }
}

/**
 * The names a folder gives itself: the folder's name (for a Hugging Face cache snapshot,
 * .../models--Org--Name/snapshots/<hash>, the repository's), `_name_or_path` of its config.json
 * and llm/config.json, and the names of the AWQ checkpoint files (*.pt) in its llm folder.
 */
export function modelFolderNames(root: string, llmDir: string): string[] {
  const abs = resolve(root);
  const names = [basename(abs)];
  if (basename(dirname(abs)) === 'snapshots') names.push(basename(dirname(dirname(abs))));
  for (const f of [join(root, 'config.json'), join(llmDir, 'config.json')]) {
    const n = nameOrPath(f);
    if (n !== undefined) names.push(n);
  }
  if (existsSync(llmDir)) names.push(...readdirSync(llmDir).filter((f) => f.endsWith('.pt')));
  return names;
}
