// Inputs of `vila tokenize` / `vila detokenize`: finding and loading only the tokenizer of a model
// folder, reading one JSON value per line from a file, parsing and range-checking token ids.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../default_model.js';
import { InputError } from '../errors.js';
import { loadTokenizer } from '../text/load.js';
import type { Tokenizer } from '../text/tokenizer.js';

/** The tokenizer's folder: DIR/llm/ (a VILA model folder) or, where that is absent, DIR itself. */
export function tokenizerDir(modelDir: string): string {
  if (!existsSync(modelDir)) {
    throw new InputError(
      modelDir === DEFAULT_MODEL_DIR
        ? `no --model given, and the bundled model is not in this checkout (${DEFAULT_MODEL_DIR}): pass --model DIR`
        : `model folder not found: ${modelDir}`,
    );
  }
  const llm = join(modelDir, 'llm');
  return existsSync(llm) && statSync(llm).isDirectory() ? llm : modelDir;
}

/** The tokenizer alone (tokenizer.model and its configs); no weights are opened. */
export function loadFolderTokenizer(modelDir: string): Promise<Tokenizer> {
  return loadTokenizer(tokenizerDir(modelDir));
}

/** One JSON value per non-blank line of `file`, each with its 1-based line number. */
export function readJsonLines(file: string): { line: number; value: unknown }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file not found' : `cannot read: ${String(e)}`, file);
  }
  const out: { line: number; value: unknown }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    try {
      out.push({ line: i + 1, value: JSON.parse(raw) as unknown });
    } catch {
      out.push({ line: i + 1, value: undefined }); // not JSON: the caller names the line
    }
  });
  return out;
}

const preview = (value: unknown): string => {
  const s = value === undefined ? 'text that is not JSON' : JSON.stringify(value);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

/** The strings of a --text-file: each non-blank line a JSON string. */
export function readTextLines(file: string): string[] {
  return readJsonLines(file).map(({ line, value }) => {
    if (typeof value !== 'string') throw new InputError(`line ${line}: expected a JSON string such as "Hello world", got ${preview(value)}`, file);
    return value;
  });
}

/** Token ids written as "1 2 3" (spaces and/or commas) or as a JSON array "[1,2,3]". */
export function parseIds(text: string): number[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      throw new InputError(`--ids: not a JSON array of token ids: ${preview(t)}`);
    }
    return idsOf(value, '--ids');
  }
  if (t === '') return [];
  return idsOf(t.split(/[\s,]+/).filter((s) => s !== '').map((s) => (/^-?\d+$/.test(s) ? Number(s) : s)), '--ids');
}

/** Checks that `value` is an array of whole numbers ≥ 0; `what` names the input in the error. */
export function idsOf(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) throw new InputError(`${what}: expected a JSON array of token ids such as [1,2,3], got ${preview(value)}`);
  for (const id of value) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new InputError(`${what}: token id ${JSON.stringify(id)} is not a whole number ≥ 0`);
  }
  return value as number[];
}

/** The ids of each non-blank line of an --ids-file, each a JSON array. */
export function readIdLines(file: string): { line: number; ids: number[] }[] {
  return readJsonLines(file).map(({ line, value }) => ({ line, ids: idsOf(value, `${file}: line ${line}`) }));
}

/** Throws an InputError naming the first id the tokenizer has no token for, and the vocabulary size. */
export function checkIdsInRange(tokenizer: Tokenizer, ids: readonly number[], what: string): void {
  for (const id of ids) {
    if (id < 0 || id >= tokenizer.size) {
      const size = tokenizer.size;
      throw new InputError(`${what}: token id ${id} is out of range: the vocabulary has ${size} tokens (ids 0 to ${size - 1})`);
    }
  }
}
