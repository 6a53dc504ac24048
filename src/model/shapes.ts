// Real dimensions of published VILA 1.5 members (spec/vila.md §2, §4, §7), for "shape twins":
// checkpoints with random weights and real sizes, used to measure speed and memory.

export interface TwinShape {
  readonly llm: {
    hidden: number;
    layers: number;
    heads: number;
    kvHeads: number;
    ffn: number;
    vocab: number;
    ropeTheta: number;
    maxPositions: number;
  };
  readonly vision: { hidden: number; ffn: number; layers: number; heads: number; patch: number; image: number };
}

const siglip = { hidden: 1152, ffn: 4304, layers: 27, heads: 16, patch: 14, image: 384 };

export const TWIN_SHAPES: Readonly<Record<string, TwinShape>> = {
  'vila1.5-3b': {
    llm: { hidden: 2560, layers: 32, heads: 20, kvHeads: 20, ffn: 6912, vocab: 32000, ropeTheta: 1e4, maxPositions: 4096 },
    vision: siglip,
  },
  'llama-3-vila1.5-8b': {
    llm: { hidden: 4096, layers: 32, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256, ropeTheta: 5e5, maxPositions: 8192 },
    vision: siglip,
  },
  'vila1.5-13b': {
    llm: { hidden: 5120, layers: 40, heads: 40, kvHeads: 40, ffn: 13824, vocab: 32000, ropeTheta: 1e4, maxPositions: 4096 },
    vision: siglip,
  },
};
