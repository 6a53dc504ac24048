// Quantize a VILA folder's LLM to int4, with round-to-nearest (quantizeRtn, spec/awq.md §1.1)
// or with AWQ's activation-aware scale and clip search on calibration data (§1.2–1.3, awq_model.ts,
// whose scaled norm weights replace the stored ones): every decoder-layer linear (q, k, v, o, gate, up, down) becomes a TinyChat v2 int4 weight
// (`.qweight` I16, `.scales` F16, `.scaled_zeros` F16, §2), every other LLM tensor is kept as
// stored, and llm/config.json gains the quantization_config the loader reads its group size
// from. The vision tower, projector and every other file are copied unchanged.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { openWeights } from '../io/weights.js';
import { writeSafetensors, type TensorSpec } from '../io/safetensors_write.js';
import type { Backend } from '../backend.js';
import { awqQuantizeLlm, type AwqLayerSummary, type AwqModelResult } from './awq_model.js';
import type { AwqSettings } from './awq_search.js';
import { paddedGroups, quantizeRtn, type Q4Tensor } from './q4.js';
import type { Tensor } from '../tensor.js';

export type QuantizeMethod = 'rtn' | 'awq';

export interface QuantizeOptions {
  method?: QuantizeMethod;
  groupSize?: number;
  /** AWQ: calibration file (.txt text or .jsonl conversations with pictures), required. */
  calib?: string;
  /** AWQ: calibration blocks / conversations used at most, and tokens per text block. */
  calibSamples?: number;
  calibTokens?: number;
  /** AWQ: backend and threads the calibration and searches run on. */
  backend?: Backend | string;
  threads?: number;
  /** AWQ: search settings other than the group size (default llm-awq's, LLM_AWQ_SETTINGS). */
  awqSettings?: Partial<Omit<AwqSettings, 'groupSize'>>;
  /** Called after each tensor written (done, total, key). */
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface QuantizeReport {
  /** Keys (without suffix) of the linears quantized. */
  readonly quantized: string[];
  /** LLM tensors kept as stored. */
  readonly kept: string[];
  /** AWQ: what the search chose, per layer, and the calibration it saw. */
  readonly awq?: { readonly samples: number; readonly tokens: number; readonly layers: AwqLayerSummary[] };
}

/** Decoder-layer linears replaced by int4: model.layers.N.{self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj}.weight */
const LINEAR = /^model\.layers\.\d+\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)\.weight$/;

/** Tensors AWQ replaces: the linears (q..down) and the two norms its scales are folded into. */
const AWQ_KEY = /^model\.layers\.(\d+)\.(input_layernorm|post_attention_layernorm|self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)\.weight$/;

/** The files of llm/ that hold weights (replaced by out/llm/model.safetensors). */
const WEIGHT_FILE = /\.safetensors$|\.safetensors\.index\.json$|\.pt$|\.bin$|\.bin\.index\.json$/;

function copyTree(src: string, dst: string, skip: (rel: string) => boolean, rel = ''): void {
  mkdirSync(dst, { recursive: true });
  for (const name of readdirSync(src)) {
    const r = rel === '' ? name : `${rel}/${name}`;
    if (skip(r)) continue;
    const s = join(src, name);
    const d = join(dst, name);
    if (statSync(s).isDirectory()) copyTree(s, d, skip, r);
    else copyFileSync(s, d);
  }
}

export async function quantizeModel(modelDir: string, outDir: string, opts: QuantizeOptions = {}): Promise<QuantizeReport> {
  const method = opts.method ?? 'rtn';
  const G = opts.groupSize ?? 128;
  if (method !== 'rtn' && method !== 'awq') throw new InputError(`unknown quantization method '${String(method)}'; expected rtn or awq`);
  if (method === 'awq' && opts.calib === undefined) {
    throw new InputError('--method awq needs calibration data: --calib FILE (.txt text, or .jsonl lines {"images": [...], "question": ..., "answer": ...})');
  }
  if (!Number.isInteger(G) || G <= 0 || G % 64 !== 0) throw new InputError(`--group-size must be a positive multiple of 64, got ${G}`);
  const llmIn = join(modelDir, 'llm');
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) throw new InputError('model folder does not exist', modelDir);
  if (!existsSync(join(llmIn, 'config.json'))) throw new InputError('no llm/ folder with a config.json: a VILA folder (llm/, vision_tower/, mm_projector/) is needed', modelDir);
  if (existsSync(outDir) && (!statSync(outDir).isDirectory() || readdirSync(outDir).length > 0)) {
    throw new InputError('output folder exists and is not empty; give a new or empty --out', outDir);
  }

  const src = openWeights(llmIn);
  try {
    const names = src.names().sort();
    const linears = names.filter((n) => LINEAR.test(n));
    if (linears.length === 0) throw new InputError('no decoder-layer linear weights (model.layers.N.*_proj.weight) in llm/', llmIn);
    for (const name of linears) {
      const info = src.info(name);
      const [n, k] = info.shape as [number, number];
      if (info.shape.length !== 2 || info.dtype === null || !['f32', 'f16', 'bf16'].includes(info.dtype)) {
        throw new InputError(`'${name}' is not a 2-D float weight (${info.storedDtype} ${JSON.stringify(info.shape)}); is the model already quantized?`, src.fileOf(name));
      }
      if (k % G !== 0 || n % 4 !== 0 || k % 64 !== 0) {
        throw new InputError(`'${name}' has shape [${n}, ${k}]: int4 needs outputs % 4 = 0 and inputs a multiple of 64 and of the group size ${G}; try --group-size 64`, src.fileOf(name));
      }
    }

    // AWQ: search every layer first (its results replace the linears and the norms it scaled).
    let awq: AwqModelResult | undefined;
    if (method === 'awq') {
      awq = await awqQuantizeLlm(modelDir, opts.calib!, {
        groupSize: G,
        ...(opts.calibSamples === undefined ? {} : { maxSamples: opts.calibSamples }),
        ...(opts.calibTokens === undefined ? {} : { blockTokens: opts.calibTokens }),
        ...(opts.backend === undefined ? {} : { backend: opts.backend }),
        ...(opts.threads === undefined ? {} : { threads: opts.threads }),
        ...(opts.awqSettings === undefined ? {} : { settings: opts.awqSettings }),
        ...(opts.onProgress === undefined ? {} : { onProgress: (d, t, w) => opts.onProgress!(d, t, `awq: ${w}`) }),
      });
    }
    const searched = (name: string): Tensor | Q4Tensor | undefined => {
      const m = AWQ_KEY.exec(name);
      if (awq === undefined || m === null) return undefined;
      const r = awq.layers[Number(m[1])]!;
      const part = m[2]!;
      if (part === 'input_layernorm') return r.inputNorm;
      if (part === 'post_attention_layernorm') return r.postNorm;
      return r.linears[(m[3] ?? m[4]) as keyof typeof r.linears];
    };

    // Every tensor to write, by key, with its spec and a reader (quantized lazily, one linear at a time).
    const entries = new Map<string, { spec: TensorSpec; get: () => Tensor }>();
    const total = names.length;
    let done = 0;
    let current: { name: string; q: Q4Tensor } | undefined;
    const q4Of = (name: string): Q4Tensor => {
      if (current?.name !== name) {
        current = { name, q: (searched(name) as Q4Tensor | undefined) ?? quantizeRtn(src.read(name), G, 'f16') };
        opts.onProgress?.(++done, total, name);
      }
      return current.q;
    };
    const kept: string[] = [];
    for (const name of names) {
      if (!LINEAR.test(name)) {
        const info = src.info(name);
        if (info.dtype === null) throw new InputError(`tensor '${name}' has dtype ${info.storedDtype}, which cannot be copied`, src.fileOf(name));
        entries.set(name, {
          spec: { dtype: info.dtype, shape: info.shape },
          get: () => {
            const t = (searched(name) as Tensor | undefined) ?? src.read(name);
            opts.onProgress?.(++done, total, name);
            return t;
          },
        });
        kept.push(name);
        continue;
      }
      const [n, k] = src.info(name).shape as [number, number];
      const base = name.slice(0, -'.weight'.length);
      const gp = paddedGroups(k, G);
      // Sorted key order: .qweight < .scaled_zeros < .scales, so the quantization happens at .qweight.
      entries.set(`${base}.qweight`, {
        spec: { dtype: 'i16', shape: [n / 4, k] },
        get: () => {
          const d = q4Of(name).qweight;
          return { dtype: 'i16', shape: [n / 4, k], data: new Int16Array(d.buffer, d.byteOffset, d.length) };
        },
      });
      entries.set(`${base}.scales`, { spec: { dtype: 'f16', shape: [gp, n] }, get: () => q4Of(name).scales });
      entries.set(`${base}.scaled_zeros`, { spec: { dtype: 'f16', shape: [gp, n] }, get: () => q4Of(name).scaledZeros });
    }

    copyTree(modelDir, outDir, (rel) => rel.startsWith('llm/') && rel.split('/').length === 2 && WEIGHT_FILE.test(rel));
    mkdirSync(join(outDir, 'llm'), { recursive: true });
    writeSafetensors(join(outDir, 'llm', 'model.safetensors'), entries);

    const cfgPath = join(outDir, 'llm', 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    cfg['quantization_config'] = { quant_method: 'awq', bits: 4, group_size: G, zero_point: true, version: 'gemv_fast' };
    writeFileSync(cfgPath, `${JSON.stringify(cfg, null, 2)}\n`);
    return {
      quantized: linears.map((n) => n.slice(0, -'.weight'.length)),
      kept,
      ...(awq === undefined ? {} : { awq: { samples: awq.samples, tokens: awq.tokens, layers: awq.summary } }),
    };
  } finally {
    src.close();
  }
}
