// AWQ of one Llama decoder layer (llm-awq run_awq, spec/awq.md §1.2–1.4): run the layer in full
// precision on the calibration hidden states while capturing the inputs of its linears, search
// the four scales (input_layernorm → q,k,v inspecting the attention; v → o when there is no
// GQA; post_attention_layernorm → gate,up inspecting the MLP; up → down), fold them into the
// weights and into the captured inputs, search the clip of every linear except q and k, and
// quantize. The next layer's input is this layer's full-precision output, as in llm-awq.

import { allocate, setOpHook, type Backend, type OpHook } from '../backend.js';
import { InputError } from '../errors.js';
import type { LlamaConfig } from '../model/config.js';
import { attentionBlock, decoderLayer, layerBuffers, mlpBlock, type LlamaLayer } from '../model/llama.js';
import { linear } from '../model/linear.js';
import { f32, f32ToBf16, f32ToF16, rows, toF32, zeros, type F32Tensor, type FloatDType, type Tensor } from '../tensor.js';
import { quantizeRtn, type Q4Tensor } from './q4.js';
import {
  divideChannels, divideRows, meanAbs, scaleColumns, searchClip, searchScale, type AwqSettings, type ClipResult, type ScaleResult, type Weight,
} from './awq_search.js';

/** Inputs of a layer's linears over every calibration token, samples one after the other. */
export interface LayerInputs {
  readonly lengths: readonly number[];
  readonly attnIn: Float32Array; // (T, d) input of q, k, v (after input_layernorm)
  readonly oIn: Float32Array; // (T, heads·headDim) input of o_proj
  readonly mlpIn: Float32Array; // (T, d) input of gate, up (after post_attention_layernorm)
  readonly downIn: Float32Array; // (T, ffn) input of down_proj
}

const LINEARS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
type LinearName = (typeof LINEARS)[number];

export interface LayerResult {
  readonly linears: Record<LinearName, Q4Tensor>;
  readonly inputNorm: Tensor<FloatDType>;
  readonly postNorm: Tensor<FloatDType>;
  readonly scales: { readonly name: string; readonly result: ScaleResult }[];
  readonly clips: { readonly name: LinearName; readonly result: ClipResult }[];
}

/**
 * Run layer `l` on every sample's hidden states `hs` (each (L_s, d), updated in place to the
 * layer's output) and return what its linears saw.
 */
export function captureLayer(be: Backend, cfg: LlamaConfig, l: LlamaLayer, p: string, hs: readonly F32Tensor[]): LayerInputs {
  const T = hs.reduce((a, h) => a + h.shape[0]!, 0);
  const d = cfg.hiddenSize;
  const qd = cfg.heads * cfg.headDim;
  const kvd = cfg.kvHeads * cfg.headDim;
  const out = { attnIn: new Float32Array(T * d), oIn: new Float32Array(T * qd), mlpIn: new Float32Array(T * d), downIn: new Float32Array(T * cfg.intermediateSize) };
  const where: Record<string, keyof typeof out> = {
    [`${p}.input_norm`]: 'attnIn', [`${p}.attn.core`]: 'oIn', [`${p}.post_norm`]: 'mlpIn', [`${p}.mlp.act`]: 'downIn',
  };
  let row = 0;
  const capture: OpHook = (e) => {
    const key = where[e.name];
    if (key !== undefined) {
      const t = (e.args as { out: F32Tensor }).out;
      out[key].set(t.data, row * t.shape[1]!);
    }
    prev?.(e);
  };
  const prev = setOpHook(capture);
  try {
    for (const h of hs) {
      const m = h.shape[0]!;
      const hb = allocate(be, [m, d]);
      hb.data.set(h.data);
      decoderLayer(be, cfg, l, p, hb, allocate(be, [m, kvd]), allocate(be, [m, kvd]), 0, layerBuffers(be, cfg, m));
      h.data.set(hb.data);
      row += m;
    }
  } finally {
    setOpHook(prev);
  }
  return { lengths: hs.map((h) => h.shape[0]!), ...out };
}

const weightOf = (t: Tensor | Q4Tensor, n: number, k: number): Weight => {
  if (t.dtype === 'q4') throw new InputError('AWQ needs a full-precision model; this layer is already int4');
  return { data: toF32(t).data.slice(), n, k };
};

/** The norm weight divided by s, in its stored dtype (what llm-awq's scale_ln_fcs writes). */
function dividedNorm(w: Tensor<FloatDType>, s: Float32Array): Tensor<FloatDType> {
  const v = toF32(w).data.map((x, i) => x / s[i]!);
  if (w.dtype === 'f32') return { dtype: 'f32', shape: w.shape, data: v };
  return castFloat(v, w.dtype, w.shape);
}

function castFloat(v: Float32Array, dtype: 'f16' | 'bf16', shape: readonly number[]): Tensor<FloatDType> {
  // toF32's inverse for 16-bit storage, one rounding to nearest even.
  return { dtype, shape, data: Uint16Array.from(v, dtype === 'f16' ? f32ToF16 : f32ToBf16) };
}

/** Quantize layer `l` with AWQ from its captured inputs (which this scales in place). */
export function awqLayer(
  be: Backend, cfg: LlamaConfig, l: LlamaLayer, p: string, x: LayerInputs, st: AwqSettings, onStep: (what: string) => void,
): LayerResult {
  const d = cfg.hiddenSize;
  const qd = cfg.heads * cfg.headDim;
  const kvd = cfg.kvHeads * cfg.headDim;
  const f = cfg.intermediateSize;
  const T = x.lengths.reduce((a, b) => a + b, 0);
  const maxLen = Math.max(...x.lengths);
  const w: Record<LinearName, Weight> = {
    q: weightOf(l.q, qd, d), k: weightOf(l.k, kvd, d), v: weightOf(l.v, kvd, d), o: weightOf(l.o, d, qd),
    gate: weightOf(l.gate, f, d), up: weightOf(l.up, f, d), down: weightOf(l.down, d, f),
  };
  // Each candidate's weights are new arrays (searchScale makes them), never ones changed in place:
  // backends may keep their own copy of a weight keyed by its array (the op interface's rule).
  const as = (name: LinearName, data: Float32Array): F32Tensor => f32(data, [w[name].n, w[name].k]);

  // The inspected modules, with the candidate weights of the searched linears.
  const kc = allocate(be, [maxLen, kvd]);
  const vc = allocate(be, [maxLen, kvd]);
  const qb = allocate(be, [maxLen, qd]);
  const ab = allocate(be, [maxLen, qd]);
  const attention = (ws: readonly Float32Array[]): Float32Array => {
    const [q, k, v] = [as('q', ws[0]!), as('k', ws[1]!), as('v', ws[2]!)];
    const out = new Float32Array(T * d);
    let r = 0;
    for (const m of x.lengths) {
      const xs = f32(x.attnIn.subarray(r * d, (r + m) * d), [m, d]);
      const os = f32(out.subarray(r * d, (r + m) * d), [m, d]);
      attentionBlock(be, cfg, { q, k, v, o: l.o }, `${p}.awq`, xs, os, kc, vc, 0, { q: rows(qb, 0, m), att: rows(ab, 0, m) });
      r += m;
    }
    return out;
  };
  const single = (name: LinearName, input: Float32Array, k: number) => (ws: readonly Float32Array[]): Float32Array => {
    const out = zeros([T, w[name].n]);
    linear(be, `${p}.awq.${name}`, out, f32(input, [T, k]), as(name, ws[0]!));
    return out.data;
  };
  const mlp = (ws: readonly Float32Array[]): Float32Array => {
    const out = zeros([T, d]);
    mlpBlock(be, { gate: as('gate', ws[0]!), up: as('up', ws[1]!), down: l.down }, `${p}.awq`, f32(x.mlpIn, [T, d]), out, { gate: zeros([T, f]), up: zeros([T, f]) });
    return out.data;
  };

  const scales: LayerResult['scales'] = [];
  let inputNorm = l.inputNorm;
  let postNorm = l.postNorm;
  const search = (name: string, input: Float32Array, k: number, names: readonly LinearName[], evaluate: (ws: readonly Float32Array[]) => Float32Array): ScaleResult => {
    onStep(`${p} scale ${name}`);
    const linears = names.map((n) => w[n]);
    const result = searchScale(meanAbs(input, k), linears, st, evaluate, evaluate(linears.map((lw) => lw.data.slice())));
    scales.push({ name, result });
    return result;
  };
  // All four searches see the original weights (llm-awq auto_scale_block), then all are applied.
  if (st.searchScales) {
    const sQkv = search('input_layernorm→q,k,v', x.attnIn, d, ['q', 'k', 'v'], attention);
    const sVo = kvd === d && qd === d ? search('v→o', x.oIn, qd, ['o'], single('o', x.oIn, qd)) : undefined;
    const sMlp = search('post_attention_layernorm→gate,up', x.mlpIn, d, ['gate', 'up'], mlp);
    const sDown = search('up→down', x.downIn, f, ['down'], single('down', x.downIn, f));
    inputNorm = dividedNorm(l.inputNorm, sQkv.scales);
    for (const n of ['q', 'k', 'v'] as const) scaleColumns(w[n], sQkv.scales);
    divideChannels(x.attnIn, sQkv.scales);
    if (sVo !== undefined) {
      divideRows(w.v, sVo.scales);
      scaleColumns(w.o, sVo.scales);
      divideChannels(x.oIn, sVo.scales);
    }
    postNorm = dividedNorm(l.postNorm, sMlp.scales);
    for (const n of ['gate', 'up'] as const) scaleColumns(w[n], sMlp.scales);
    divideChannels(x.mlpIn, sMlp.scales);
    divideRows(w.up, sDown.scales);
    scaleColumns(w.down, sDown.scales);
    divideChannels(x.downIn, sDown.scales);
  }

  // Clip every linear but q and k (llm-awq skips them: their errors pass through the softmax).
  const clips: LayerResult['clips'] = [];
  const inputOf: Record<'v' | 'o' | 'gate' | 'up' | 'down', Float32Array> = { v: x.attnIn, o: x.oIn, gate: x.mlpIn, up: x.mlpIn, down: x.downIn };
  if (st.searchClip) {
    for (const n of ['v', 'o', 'gate', 'up', 'down'] as const) {
      onStep(`${p} clip ${n}`);
      clips.push({ name: n, result: searchClip(be, w[n], inputOf[n], st) });
    }
  }
  onStep(`${p} quantize`);
  const linears = {} as Record<LinearName, Q4Tensor>;
  for (const n of LINEARS) linears[n] = quantizeRtn(f32(w[n].data, [w[n].n, w[n].k]), st.groupSize, st.scaleDtype);
  return { linears, inputNorm, postNorm, scales, clips };
}

/** Steps awqLayer reports per layer (for a progress total). */
export const AWQ_STEPS_PER_LAYER = (cfg: LlamaConfig, st: AwqSettings): number =>
  (st.searchScales ? 3 + (cfg.kvHeads === cfg.heads && cfg.heads * cfg.headDim === cfg.hiddenSize ? 1 : 0) : 0) + (st.searchClip ? 5 : 0) + 1;
