// AWQ of a whole VILA LLM (llm-awq run_awq, spec/awq.md §1.2–1.4): the calibration samples go
// through the full-precision model's embedding (pictures spliced in by the vision tower and
// projector), then through the decoder one layer at a time; each layer is searched on the
// inputs it saw and quantized. Only the decoder layers are quantized; embed_tokens, lm_head, the
// final norm, the vision tower and the projector stay as stored (§1.4).

import type { Backend } from '../backend.js';
import { Model } from '../model.js';
import { f32, type F32Tensor } from '../tensor.js';
import { calibrationEmbeds, readCalibration, type CalibrationOptions } from './calibration.js';
import { AWQ_STEPS_PER_LAYER, awqLayer, captureLayer, type LayerResult } from './awq_layer.js';
import { LLM_AWQ_SETTINGS, type AwqSettings } from './awq_search.js';

export interface AwqOptions extends CalibrationOptions {
  readonly groupSize: number;
  /** Backend the calibration and the searches run on (default: the wasm backend). */
  readonly backend?: Backend | string;
  readonly threads?: number;
  readonly settings?: Partial<Omit<AwqSettings, 'groupSize'>>;
  readonly onProgress?: (done: number, total: number, what: string) => void;
}

export interface AwqLayerSummary {
  readonly layer: number;
  /** Per scaled group: the α chosen and the module-output MSE at that α relative to α = 0 (RTN). */
  readonly scales: { readonly name: string; readonly alpha: number; readonly lossVsRtn: number }[];
  /** Per clipped linear: the clip loss after / before (factor 1 is RTN). */
  readonly clips: { readonly name: string; readonly lossVsRtn: number }[];
}

export interface AwqModelResult {
  /** Layer index → its int4 linears and scaled norms. */
  readonly layers: LayerResult[];
  readonly samples: number;
  readonly tokens: number;
  readonly summary: AwqLayerSummary[];
}

export async function awqQuantizeLlm(modelDir: string, calibFile: string, opts: AwqOptions): Promise<AwqModelResult> {
  const model = await Model.load(modelDir, {
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
  });
  const st: AwqSettings = { ...LLM_AWQ_SETTINGS, ...opts.settings, groupSize: opts.groupSize };
  const cfg = model.config.llm;
  const samples = readCalibration(model, calibFile, opts);
  const perLayer = 1 + AWQ_STEPS_PER_LAYER(cfg, st);
  const total = samples.length + cfg.layers * perLayer;
  let done = 0;
  const step = (what: string): void => opts.onProgress?.(++done, total, what);

  const hs: F32Tensor[] = [];
  for (const [i, s] of samples.entries()) {
    const e = await calibrationEmbeds(model, s);
    hs.push(f32(e.data.slice(), e.shape)); // a host copy: it becomes each layer's input in turn
    step(`embedding sample ${i + 1}`);
  }
  const layers: LayerResult[] = [];
  const summary: AwqLayerSummary[] = [];
  model.weights.llm.layers.forEach((l, i) => {
    const p = `llm.layers.${i}`;
    step(`${p} capture`);
    const inputs = captureLayer(model.backend, cfg, l, p, hs);
    const r = awqLayer(model.backend, cfg, l, p, inputs, st, step);
    layers.push(r);
    summary.push({
      layer: i,
      scales: r.scales.map((s) => ({ name: s.name, alpha: s.result.alpha, lossVsRtn: Math.min(...s.result.losses) / s.result.losses[0]! })),
      clips: r.clips.map((c) => ({ name: c.name, lossVsRtn: c.result.lossAfter / c.result.lossBefore })),
    });
  });
  return { layers, samples: samples.length, tokens: hs.reduce((a, h) => a + h.shape[0]!, 0), summary };
}
