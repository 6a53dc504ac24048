// Shared loading of the tokenizer goldens written by tools/tokenizer_goldens.py (Google's
// SentencePiece 0.1.97 + a Python restatement of transformers 4.36's slow LlamaTokenizer), and a
// mismatch reporter that prints the first differences instead of one opaque assertion.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const GOLDENS = join(ROOT, 'test', 'fixtures', 'text', 'goldens');

export const MODEL_NAMES = [
  'tinychat-awq',
  'spm-bpe-llama',
  'spm-bpe-nobyte',
  'spm-unigram-nfkc',
  'legacy-config',
  'spm-bpe-yi',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const MODEL_DIRS: Record<ModelName, string> = {
  'tinychat-awq': join(ROOT, 'test', 'fixtures', 'tinychat-awq', 'llm'),
  'spm-bpe-llama': join(ROOT, 'test', 'fixtures', 'text', 'spm-bpe-llama'),
  'spm-bpe-nobyte': join(ROOT, 'test', 'fixtures', 'text', 'spm-bpe-nobyte'),
  'spm-unigram-nfkc': join(ROOT, 'test', 'fixtures', 'text', 'spm-unigram-nfkc'),
  'legacy-config': join(ROOT, 'test', 'fixtures', 'text', 'legacy-config'),
  'spm-bpe-yi': join(ROOT, 'test', 'fixtures', 'text', 'spm-bpe-yi'),
};

export interface SpCase {
  pieces: string[];
  ids: number[];
  decoded: string;
}
export interface HfCase {
  tokens: string[];
  ids: number[];
  decoded: string;
  decoded_skip: string;
}
export interface DecodeCase {
  ids: number[];
  sp: string;
  sp_ids: number[];
  hf: string;
  hf_skip: string;
}
export interface ModelGoldens {
  model: string;
  vocab_size: number;
  bos_id: number | null;
  eos_id: number | null;
  unk_id: number;
  all_special_ids: number[];
  sentencepiece: SpCase[];
  hf_legacy_false: HfCase[];
  hf_legacy_true: HfCase[];
  decode: DecodeCase[];
  /** spm-bpe-yi only: ChatML strings (Yi's special tokens inside text). */
  chatml?: { strings: string[]; hf_legacy_false: HfCase[]; hf_legacy_true: HfCase[] };
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function testStrings(): string[] {
  return readJson<{ strings: string[] }>(join(GOLDENS, 'strings.json')).strings;
}

export function modelGoldens(name: ModelName): ModelGoldens {
  return readJson<ModelGoldens>(join(GOLDENS, `${name}.json`));
}

export interface VilaGoldens {
  conversations: {
    template: string;
    conversation: string;
    messages: [string, string | null][];
    prompt: string;
    stop: string;
  }[];
  image_tokens: Record<ModelName, { prompt: string; ids: number[] }[]>;
}

export function vilaGoldens(): VilaGoldens {
  return readJson<VilaGoldens>(join(GOLDENS, 'vila.json'));
}

/** Collects mismatches; `assertNone` fails with the first few, showing input, expected and got. */
export class Mismatches {
  private readonly items: string[] = [];
  total = 0;

  check(label: string, input: unknown, expected: unknown, got: unknown): void {
    this.total++;
    if (JSON.stringify(expected) === JSON.stringify(got)) return;
    const show = (name: string, v: unknown): string => `\n    ${name.padEnd(9)} ${JSON.stringify(v)}`;
    this.items.push(label + show('input:', input) + show('expected:', expected) + show('got:', got));
  }

  get count(): number {
    return this.items.length;
  }

  assertNone(): void {
    if (this.items.length === 0) return;
    const shown = this.items.slice(0, 8).join('\n');
    throw new Error(`${this.items.length} of ${this.total} comparisons differ; first ones:\n${shown}`);
  }
}
