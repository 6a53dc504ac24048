// A random-weight VILA 1.5 (or plain Llama) of a given shape, built in memory with no files, with
// the dtypes of the published AWQ checkpoint (spec/awq.md §1.4): every linear inside the LLM
// decoder layers is int4 (TinyChat v2, group 128); embed_tokens, lm_head, the norms, the vision
// tower and the projector stay fp16. Magnitudes follow a 1/√fan_in initialisation (norm weights
// near 1) so activations stay O(1) through the layers, as in io/random_checkpoint.ts.

import type { LlamaConfig, SiglipConfig, VilaConfig } from '../model/config.js';
import type { LlamaLayer, LlamaWeights } from '../model/llama.js';
import type { ProjectorWeights } from '../model/projector.js';
import type { SiglipLayer, SiglipWeights } from '../model/siglip.js';
import type { Q4Tensor } from '../quant/q4.js';
import type { Tensor } from '../tensor.js';
import { VilaWeights, type VisionPart } from '../model/vila.js';
import type { BenchShape } from './shapes.js';
import { randomF16, randomQ4Fast } from './random_weights.js';

export interface BuiltModel {
  weights: VilaWeights;
  /** Seconds spent building the LLM and the vision part (tower + projector). */
  llmBuildS: number;
  visionBuildS: number;
  /** Parameters (int4 weights count one each). */
  params: number;
}

export type BuildProgress = (done: number, total: number, what: string) => void;

function configOf(name: string, s: BenchShape): VilaConfig {
  const root = `<in-memory ${name}>`;
  const l = s.llm;
  const llm: LlamaConfig = {
    file: `${root}/llm`, hiddenSize: l.hidden, layers: l.layers, heads: l.heads, kvHeads: l.kvHeads, headDim: l.hidden / l.heads,
    intermediateSize: l.ffn, vocabSize: l.vocab, rmsNormEps: 1e-5, ropeTheta: l.ropeTheta, maxPositions: l.maxPositions,
    maxLength: l.maxPositions, tieWordEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
  };
  const base = { root, llm, imageAspectRatio: 'resize' as const, numVideoFrames: 8, modelMaxLength: llm.maxLength, llmDir: root };
  if (s.vision === undefined) return base;
  const v = s.vision;
  const vision: SiglipConfig = {
    kind: 'siglip',
    file: `${root}/vision_tower`, hiddenSize: v.hidden, intermediateSize: v.ffn, layers: v.layers, heads: v.heads,
    headDim: v.hidden / v.heads, patchSize: v.patch, imageSize: v.image, channels: 3, layerNormEps: 1e-6,
  };
  // VILA 1.5: mm_vision_select_layer −2 (all layers but the last run), feature 'cls_patch'.
  return { ...base, vision, projector: 'mlp_downsample', select: { layersToRun: v.layers - 1, feature: 'cls_patch' } };
}

/**
 * Moves a tensor into a backend's memory as it is made (Backend.adopt), so that a model larger
 * than the JavaScript heap would hold twice (the 8B shape: ~7 GB) is built with one copy.
 */
export type Adopt = <T extends Tensor>(t: T) => T;

function adoptQ4(adopt: Adopt, w: Q4Tensor): Q4Tensor {
  const qweight = adopt({ dtype: 'i16', shape: [w.qweight.length], data: w.qweight }).data as Uint16Array;
  return { ...w, qweight, scales: adopt(w.scales), scaledZeros: adopt(w.scaledZeros) };
}

export function buildRandomModel(name: string, shape: BenchShape, seed = 0, onProgress?: BuildProgress, adopt?: Adopt): BuiltModel {
  const config = configOf(name, shape);
  const l = config.llm;
  const d = l.hiddenSize;
  const qd = l.heads * l.headDim;
  const kvd = l.kvHeads * l.headDim;
  const f = l.intermediateSize;
  let next = seed * 100_003;
  let params = 0;
  const vlayers = config.select?.layersToRun ?? 0;
  const total = l.layers + 2 + (config.vision === undefined ? 0 : vlayers + 2);
  let done = 0;
  const step = (what: string): void => onProgress?.(++done, total, what);
  // Each tensor gets its own seed, and is counted in the parameters.
  const q4 = (n: number, k: number): Q4Tensor => {
    params += n * k;
    const w = randomQ4Fast(n, k, shape.q4Group, ++next);
    return adopt === undefined ? w : adoptQ4(adopt, w);
  };
  const w16 = (dims: number[], std: number, mean = 0): Tensor<'f16'> => {
    params += dims.reduce((a, b) => a * b, 1);
    const t = randomF16(dims, std, mean, ++next);
    return adopt === undefined ? t : adopt(t);
  };
  const fan = (k: number): number => 1 / Math.sqrt(k);

  let t0 = performance.now();
  const layers: LlamaLayer[] = [];
  for (let i = 0; i < l.layers; i++) {
    layers.push({
      inputNorm: w16([d], 0.05, 1), q: q4(qd, d), k: q4(kvd, d), v: q4(kvd, d), o: q4(d, qd),
      postNorm: w16([d], 0.05, 1), gate: q4(f, d), up: q4(f, d), down: q4(d, f),
    });
    step(`llm.layers.${i}`);
  }
  const embed = w16([l.vocabSize, d], 1);
  step('llm.embed_tokens');
  const lmHead = shape.lmHeadQ4 === true ? q4(l.vocabSize, d) : w16([l.vocabSize, d], fan(d));
  const llm: LlamaWeights = { embed, layers, norm: w16([d], 0.05, 1), lmHead };
  step('llm.lm_head');
  const llmBuildS = (performance.now() - t0) / 1000;

  t0 = performance.now();
  let vision: VisionPart | undefined;
  const v = config.vision;
  if (v !== undefined) {
    const vd = v.hiddenSize;
    const lin = (out: number, inp: number) => ({ w: w16([out, inp], fan(inp)), b: w16([out], 0.02) });
    const norm = (n: number) => ({ w: w16([n], 0.05, 1), b: w16([n], 0.02) });
    const grid = Math.floor(v.imageSize / v.patchSize);
    const patchW = w16([vd, 3, v.patchSize, v.patchSize], fan(3 * v.patchSize ** 2));
    const sl: SiglipLayer[] = [];
    for (let i = 0; i < vlayers; i++) {
      sl.push({
        ln1: norm(vd), q: lin(vd, vd), k: lin(vd, vd), v: lin(vd, vd), out: lin(vd, vd),
        ln2: norm(vd), fc1: lin(v.intermediateSize, vd), fc2: lin(vd, v.intermediateSize),
      });
      step(`vision.layers.${i}`);
    }
    const tower: SiglipWeights = { patchW, patchB: w16([vd], 0.02), position: w16([grid * grid, vd], 0.1), layers: sl };
    step('vision.embeddings');
    const projector: ProjectorWeights = { kind: 'mlp_downsample', norm: norm(4 * vd), fc1: lin(d, 4 * vd), fc2: lin(d, d) };
    step('projector');
    vision = { weights: tower, projector };
  }
  const visionBuildS = (performance.now() - t0) / 1000;
  return { weights: VilaWeights.fromParts(config, llm, vision), llmBuildS, visionBuildS, params };
}
