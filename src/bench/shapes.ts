// The model shapes `vila bench model` builds in memory: real VILA 1.5 dimensions (from
// model/shapes.ts), the llama.cpp reference Llama the peers measured (peers.md: the model of
// peers/gguf_writer.js), and a tiny one for tests.

import { TWIN_SHAPES, type TwinShape } from '../model/shapes.js';

export interface BenchShape {
  readonly llm: TwinShape['llm'];
  /** Absent: a text-only Llama (no image figure). */
  readonly vision?: TwinShape['vision'];
  /** Group size of the int4 LLM linears (AWQ g128). */
  readonly q4Group: number;
  /** lm_head int4 too (llama.cpp's Q4_0 files quantize output.weight; AWQ keeps it fp16). */
  readonly lmHeadQ4?: boolean;
}

export const BENCH_SHAPES: Readonly<Record<string, BenchShape>> = {
  // SigLIP-so400m at 384 px, mlp_downsample to 2560, Llama 2560/6912 × 32, as VILA1.5-3b-AWQ.
  'vila1.5-3b': { ...TWIN_SHAPES['vila1.5-3b']!, q4Group: 128 },
  // Llama-3-VILA1.5-8B-AWQ: Llama 3 8B (4096/14336 × 32, GQA 32/8, vocab 128256), the same tower.
  'llama-3-vila1.5-8b': { ...TWIN_SHAPES['llama-3-vila1.5-8b']!, q4Group: 128 },
  // peers.md: hidden 2048, 16 layers, 16 heads, 4 KV heads, FFN 5632, vocab 32000 (0.85 B params).
  'llama-ref': {
    llm: { hidden: 2048, layers: 16, heads: 16, kvHeads: 4, ffn: 5632, vocab: 32000, ropeTheta: 1e4, maxPositions: 4096 },
    q4Group: 128,
    // peers/gguf_writer.js writes output.weight as Q4_0 like every other linear
    lmHeadQ4: true,
  },
  // Seconds to build and run; every dimension a multiple of what the int4 layout needs (k % 128, n % 4).
  tiny: {
    llm: { hidden: 128, layers: 2, heads: 4, kvHeads: 2, ffn: 256, vocab: 512, ropeTheta: 1e4, maxPositions: 1024 },
    vision: { hidden: 64, ffn: 128, layers: 3, heads: 4, patch: 14, image: 56 },
    q4Group: 128,
  },
};

export const BENCH_SHAPE_NAMES = Object.keys(BENCH_SHAPES);
