// `vila bench model`: a random-weight model of a real shape, built in memory, timed end to end
// through the same code path as `vila generate` (VilaWeights: encodeImage, forward with a KV
// cache): one 384×384 image through the tower and projector, a 128-token prompt, then decode
// steps fed with their own argmax, and the process's peak resident memory.
//
// The WebAssembly backend copies each weight into wasm memory the first time an op reads it, so
// the first image and the first decoder pass pay for that upload; they are run once untimed
// (reported as image_first_s and llm_upload_s) before the timed ones.

import { setOpHook, type Backend } from '../backend.js';
import { InputError } from '../errors.js';
import { createCudaBackend, type CudaBackend } from '../cuda/backend.js';
import { createRefBackend } from '../ref/index.js';
import { argmax, seededRandom } from '../sampling.js';
import { f32 } from '../tensor.js';
import { createWasmBackend, type WasmBackend } from '../wasm/backend.js';
import type { WasmFlavor } from '../wasm/module.js';
import { kernelBuild, machineInfo, median, peakRssMb, type MachineInfo } from './machine.js';
import { buildRandomModel } from './random_model.js';
import { BENCH_SHAPES, BENCH_SHAPE_NAMES } from './shapes.js';

export interface ModelBenchOptions {
  shape: string;
  backend: 'wasm' | 'ref' | 'cuda';
  threads: number;
  flavor?: WasmFlavor;
  /** Decode steps timed (default 16). */
  tokens?: number;
  /** Prompt length for the prefill figure (default 128). */
  promptTokens?: number;
  /** Skip the image even when the shape has a vision tower. */
  skipImage?: boolean;
  seed?: number;
  /** Progress: a stage ('build', 'image', 'prefill', 'decode', ...) and how far it is. */
  onProgress?: (stage: string, done: number, total: number) => void;
  /** One line per finished stage, for a log. */
  onLog?: (line: string) => void;
}

export interface ModelReport extends MachineInfo {
  bench: 'model';
  shape: string;
  backend: 'wasm' | 'ref' | 'cuda';
  flavor: WasmFlavor | null;
  threads: number;
  kernels: string | undefined;
  params: number;
  llm_build_s: number;
  vision_build_s: number;
  /** Untimed first image (includes uploading the tower to wasm memory); null without vision. */
  image_first_s: number | null;
  /** Seconds to encode one image (tower + projector); null without vision or with --skip-image. */
  image_s: number | null;
  image_tokens: number | null;
  /** Side of the square image, pixels; null without vision. */
  image_size: number | null;
  /** First decoder pass of one token, uploading the LLM weights (wasm); null on ref. */
  llm_upload_s: number | null;
  prompt_tokens: number;
  prefill_s: number;
  prefill_tok_s: number;
  decode_tokens: number;
  decode_ms: number[];
  /** 1000 / median decode step (ms). */
  decode_tok_s: number;
  peak_rss_mb: number;
}

/** Counts layer outputs through the op hook to report progress inside one long forward pass. */
function withLayerProgress<T>(pattern: RegExp, total: number, report: ((done: number, total: number) => void) | undefined, fn: () => T): T {
  if (report === undefined) return fn();
  let done = 0;
  const previous = setOpHook((e) => {
    if (pattern.test(e.name)) report(++done, total);
  });
  try {
    return fn();
  } finally {
    setOpHook(previous);
  }
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

export function runModelBench(o: ModelBenchOptions): ModelReport {
  const shape = BENCH_SHAPES[o.shape];
  if (shape === undefined) throw new InputError(`unknown shape '${o.shape}'; choose one of ${BENCH_SHAPE_NAMES.join(', ')}`);
  const tokens = o.tokens ?? 16;
  const promptTokens = o.promptTokens ?? 128;
  if (!Number.isInteger(tokens) || tokens < 1) throw new InputError(`--tokens must be a whole number ≥ 1, got ${tokens}`);
  if (!Number.isInteger(promptTokens) || promptTokens < 1) throw new InputError(`--prompt-tokens must be a whole number ≥ 1, got ${promptTokens}`);
  if (promptTokens + tokens + 1 > shape.llm.maxPositions) throw new InputError(`prompt + decode tokens exceed the ${shape.llm.maxPositions} positions of ${o.shape}`);
  const log = o.onLog ?? (() => {});
  const machine = machineInfo();
  const wasm: WasmBackend | undefined = o.backend === 'wasm' ? createWasmBackend({ threads: o.threads, ...(o.flavor === undefined ? {} : { flavor: o.flavor }) }) : undefined;
  // cuda: the GPU (src/cuda/); weights uploaded on first use like wasm's, ops asynchronous, so
  // each timed stage ends with a sync (prefill and decode end in a download of the logits anyway).
  const cuda: CudaBackend | undefined = o.backend === 'cuda' ? createCudaBackend() : undefined;
  const sync = (): void => cuda?.sync();
  const uploads = wasm !== undefined || cuda !== undefined;
  const be: Backend = wasm ?? cuda ?? createRefBackend();
  try {
    // Weights go straight into wasm memory as they are made (one copy, as model loading does).
    const built = buildRandomModel(o.shape, shape, o.seed ?? 0, (d, t) => o.onProgress?.('build', d, t), be.adopt?.bind(be));
    const w = built.weights;
    log(`built ${(built.params / 1e9).toFixed(2)} B parameters: LLM ${built.llmBuildS.toFixed(1)} s, vision ${built.visionBuildS.toFixed(1)} s`);
    let imageFirstS: number | null = null;
    let imageS: number | null = null;
    let imageTokens: number | null = null;
    const vcfg = w.config.vision;
    if (vcfg !== undefined && o.skipImage !== true) {
      const s = vcfg.imageSize;
      const rnd = seededRandom(1);
      const pixels = f32(Float32Array.from({ length: 3 * s * s }, () => rnd() * 2 - 1), [3, s, s]);
      const layers = w.config.select!.layersToRun;
      const encode = (stage: string): number => {
        const t0 = performance.now();
        const feats = withLayerProgress(/^image\.vision\.layers\.\d+\.out$/, layers, o.onProgress && ((d, t) => o.onProgress!(stage, d, t)), () => w.encodeImage(be, pixels));
        sync();
        imageTokens = feats.shape[0]!;
        return seconds(t0);
      };
      if (uploads) {
        imageFirstS = encode('image (upload)');
        log(`first image (uploads the tower): ${imageFirstS.toFixed(2)} s`);
      }
      imageS = encode('image');
      log(`image → ${imageTokens} tokens: ${imageS.toFixed(2)} s`);
    }

    const llmLayers = w.config.llm.layers;
    const layerOut = /^llm\.layers\.\d+\.out$/;
    let llmUploadS: number | null = null;
    if (uploads) {
      const t0 = performance.now();
      withLayerProgress(layerOut, llmLayers, o.onProgress && ((d, t) => o.onProgress!('llm upload', d, t)), () => w.forwardTokens(be, [1], w.newCache(1, be)));
      llmUploadS = seconds(t0);
      log(`first decoder pass (uploads the LLM): ${llmUploadS.toFixed(2)} s`);
    }
    const rnd = seededRandom(2);
    const vocab = w.config.llm.vocabSize;
    const prompt = [1, ...Array.from({ length: promptTokens - 1 }, () => 3 + Math.floor(rnd() * (vocab - 3)))];
    const cache = w.newCache(promptTokens + tokens + 1, be);
    let t0 = performance.now();
    let logits = withLayerProgress(layerOut, llmLayers, o.onProgress && ((d, t) => o.onProgress!('prefill', d, t)), () => w.forwardTokens(be, prompt, cache));
    const prefillS = seconds(t0);
    log(`prefill of ${promptTokens} tokens: ${prefillS.toFixed(2)} s`);
    const steps: number[] = [];
    for (let i = 0; i < tokens; i++) {
      t0 = performance.now();
      logits = w.forwardTokens(be, [argmax(logits.data)], cache);
      steps.push(performance.now() - t0);
      o.onProgress?.('decode', i + 1, tokens);
    }
    const stepMs = median(steps);
    log(`decode: ${stepMs.toFixed(1)} ms per token (median of ${tokens})`);
    return {
      bench: 'model', shape: o.shape, backend: o.backend, flavor: wasm?.flavor ?? null, threads: wasm?.threads ?? 1,
      kernels: wasm === undefined ? undefined : kernelBuild(wasm.flavor), ...machine,
      params: built.params, llm_build_s: built.llmBuildS, vision_build_s: built.visionBuildS,
      image_first_s: imageFirstS, image_s: imageS, image_tokens: imageTokens, image_size: w.config.vision?.imageSize ?? null, llm_upload_s: llmUploadS,
      prompt_tokens: promptTokens, prefill_s: prefillS, prefill_tok_s: promptTokens / prefillS,
      decode_tokens: tokens, decode_ms: steps, decode_tok_s: 1000 / stepMs, peak_rss_mb: peakRssMb(),
    };
  } finally {
    wasm?.close();
  }
}
