// The five published VILA 1.5 members, as far as a shape twin needs them: LLM dimensions and
// token ids, the vision tower (SigLIP, SigLIP with S2, or InternViT-6B), which features are
// selected, the tokenizer family, how many safetensors shards llm/ has, and the name of the
// TinyChat AWQ checkpoint in the -AWQ repo. Sources: spec/vila.md §1, §2, §4, §7 (which lists
// what is unverified); the S2 fields from §2; token ids from each base model's config.

import { TWIN_SHAPES, type TwinShape } from '../model/shapes.js';

export const TWIN_MEMBERS = ['vila1.5-3b', 'vila1.5-3b-s2', 'llama-3-vila1.5-8b', 'vila1.5-13b', 'vila1.5-40b'] as const;
export type TwinMemberName = (typeof TWIN_MEMBERS)[number];

export type TokenizerFamily = 'llama2' | 'llama3' | 'yi';

export interface SiglipTower {
  readonly kind: 'siglip';
  readonly hidden: number;
  readonly ffn: number;
  readonly layers: number;
  readonly heads: number;
  readonly patch: number;
  readonly image: number;
  /** S2 (3b-s2): the scales, the largest being the processor's size; crops of maxSplit. */
  readonly s2?: { readonly scales: readonly number[]; readonly maxSplit: number };
}

export interface InternTower {
  readonly kind: 'intern';
  readonly hidden: number;
  readonly ffn: number;
  readonly layers: number;
  readonly heads: number;
  readonly patch: number;
  readonly image: number;
}

export interface TwinMember {
  readonly name: TwinMemberName;
  /** The Hugging Face repo the twin imitates (Efficient-Large-Model/…). */
  readonly repo: string;
  readonly llm: TwinShape['llm'] & { readonly bos: number; readonly eos: number; readonly pad: number };
  /** generation_config.json's eos_token_id (a list for Llama 3). */
  readonly generationEos: number | readonly number[];
  readonly tower: SiglipTower | InternTower;
  readonly selectLayer: number;
  readonly selectFeature: 'cls_patch' | 'patch';
  readonly tokenizer: TokenizerFamily;
  /** model-0000i-of-0000N.safetensors shards in llm/ (spec §1). */
  readonly llmShards: number;
  /** The TinyChat checkpoint in llm/ of the -AWQ repo. */
  readonly awqFile: string;
}

const SIGLIP: SiglipTower = { kind: 'siglip', hidden: 1152, ffn: 4304, layers: 27, heads: 16, patch: 14, image: 384 };
const INTERN_6B: InternTower = { kind: 'intern', hidden: 3200, ffn: 12800, layers: 45, heads: 25, patch: 14, image: 448 };
const LLAMA2_IDS = { bos: 1, eos: 2, pad: 0 };

export const MEMBERS: Readonly<Record<TwinMemberName, TwinMember>> = {
  'vila1.5-3b': {
    name: 'vila1.5-3b', repo: 'Efficient-Large-Model/VILA1.5-3b',
    llm: { ...TWIN_SHAPES['vila1.5-3b']!.llm, ...LLAMA2_IDS }, generationEos: 2,
    tower: SIGLIP, selectLayer: -2, selectFeature: 'cls_patch', tokenizer: 'llama2', llmShards: 2,
    awqFile: 'vila-1.5-3b-w4-g128-awq-v2.pt',
  },
  'vila1.5-3b-s2': {
    name: 'vila1.5-3b-s2', repo: 'Efficient-Large-Model/VILA1.5-3b-s2',
    llm: { ...TWIN_SHAPES['vila1.5-3b']!.llm, ...LLAMA2_IDS }, generationEos: 2,
    tower: { ...SIGLIP, s2: { scales: [384, 768], maxSplit: 384 } }, selectLayer: -2, selectFeature: 'cls_patch', tokenizer: 'llama2', llmShards: 2,
    awqFile: 'vila-1.5-3b-s2-w4-g128-awq-v2.pt',
  },
  'llama-3-vila1.5-8b': {
    name: 'llama-3-vila1.5-8b', repo: 'Efficient-Large-Model/Llama-3-VILA1.5-8B',
    llm: { ...TWIN_SHAPES['llama-3-vila1.5-8b']!.llm, bos: 128000, eos: 128001, pad: 128001 }, generationEos: [128001, 128009],
    tower: SIGLIP, selectLayer: -2, selectFeature: 'cls_patch', tokenizer: 'llama3', llmShards: 4,
    awqFile: 'llama-3-vila1.5-8b-fix-w4-g128-awq-v2.pt',
  },
  'vila1.5-13b': {
    name: 'vila1.5-13b', repo: 'Efficient-Large-Model/VILA1.5-13b',
    llm: { ...TWIN_SHAPES['vila1.5-13b']!.llm, ...LLAMA2_IDS }, generationEos: 2,
    tower: SIGLIP, selectLayer: -2, selectFeature: 'cls_patch', tokenizer: 'llama2', llmShards: 6,
    awqFile: 'vila-1.5-13b-w4-g128-awq-v2.pt',
  },
  'vila1.5-40b': {
    name: 'vila1.5-40b', repo: 'Efficient-Large-Model/VILA1.5-40b',
    llm: { hidden: 7168, layers: 60, heads: 56, kvHeads: 8, ffn: 20480, vocab: 64000, ropeTheta: 5e6, maxPositions: 4096, bos: 1, eos: 7, pad: 0 },
    generationEos: 7,
    tower: INTERN_6B, selectLayer: -1, selectFeature: 'patch', tokenizer: 'yi', llmShards: 15,
    awqFile: 'vila-1.5-40b-w4-g128-awq-v2.pt',
  },
};

export function isTwinMember(name: string): name is TwinMemberName {
  return (TWIN_MEMBERS as readonly string[]).includes(name);
}

/** Width of the features the projector takes: the tower's, times the number of S2 scales. */
export function mmHiddenSize(m: TwinMember): number {
  return m.tower.hidden * (m.tower.kind === 'siglip' && m.tower.s2 !== undefined ? m.tower.s2.scales.length : 1);
}
