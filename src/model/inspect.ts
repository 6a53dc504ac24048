// A summary of a model folder from its configs and tensor headers alone (no weights read):
// what each part is, its dimensions, and the parameter count and bytes per dtype.

import { openWeights, type WeightSource } from '../io/weights.js';
import { numel } from '../tensor.js';
import { loadVilaConfig, type VilaConfig, type VisionSelect, type VisionTowerConfig } from './config.js';

export interface PartSummary {
  readonly part: 'llm' | 'vision_tower' | 'mm_projector';
  readonly dir: string;
  readonly tensors: number;
  readonly parameters: number;
  readonly bytes: number;
  /** Parameter count per stored dtype, e.g. { BF16: 2_700_000_000 }; int4 weights count as I4. */
  readonly dtypes: Record<string, number>;
  /** AWQ int4 linears, if any: how many, in which stored layout(s). */
  readonly int4?: { readonly linears: number; readonly layouts: string[] };
}

export interface ModelSummary {
  readonly root: string;
  readonly kind: 'vila' | 'llama';
  readonly config: VilaConfig;
  readonly parts: PartSummary[];
  readonly parameters: number;
  readonly bytes: number;
}

/** The stored AWQ layout of the linear `base` (spec/awq.md §0), from its keys' dtypes alone. */
function int4Layout(src: WeightSource, base: string): string {
  const q = src.info(`${base}.qweight`).storedDtype;
  if (src.has(`${base}.scaled_zeros`)) return 'TinyChat v2';
  if (q === 'I16') return 'GEMVFast';
  return 'AutoAWQ GEMM / llm-awq v1 GEMV';
}

function summarisePart(part: PartSummary['part'], src: WeightSource): PartSummary {
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  let bytes = 0;
  const names = src.names();
  // Each packed word of an int4 qweight holds 4 (int16) or 8 (int32) weights; the linear's
  // scales and zeros are quantization metadata, not parameters (their bytes still count).
  const quantized = new Set(names.filter((n) => n.endsWith('.qweight')).map((n) => n.slice(0, -'.qweight'.length)));
  const layouts = new Set<string>();
  for (const name of names) {
    const info = src.info(name);
    bytes += info.byteLength;
    const dot = name.lastIndexOf('.');
    const base = name.slice(0, dot);
    const leaf = name.slice(dot + 1);
    if (quantized.has(base)) {
      if (leaf !== 'qweight') continue;
      const n = numel(info.shape) * (info.storedDtype === 'I16' ? 4 : 8);
      parameters += n;
      dtypes['I4'] = (dtypes['I4'] ?? 0) + n;
      layouts.add(int4Layout(src, base));
      continue;
    }
    const n = numel(info.shape);
    parameters += n;
    dtypes[info.storedDtype] = (dtypes[info.storedDtype] ?? 0) + n;
  }
  return {
    part, dir: src.dir, tensors: names.length, parameters, bytes, dtypes,
    ...(quantized.size === 0 ? {} : { int4: { linears: quantized.size, layouts: [...layouts] } }),
  };
}

export function inspectModel(root: string): ModelSummary {
  const config = loadVilaConfig(root);
  const dirs: Array<[PartSummary['part'], string | undefined]> = [
    ['llm', config.llmDir],
    ['vision_tower', config.visionDir],
    ['mm_projector', config.projectorDir],
  ];
  const parts: PartSummary[] = [];
  for (const [part, dir] of dirs) {
    if (dir === undefined) continue;
    const src = openWeights(dir);
    try {
      parts.push(summarisePart(part, src));
    } finally {
      src.close();
    }
  }
  return {
    root,
    kind: config.vision === undefined ? 'llama' : 'vila',
    config,
    parts,
    parameters: parts.reduce((a, p) => a + p.parameters, 0),
    bytes: parts.reduce((a, p) => a + p.bytes, 0),
  };
}

/** One line about the vision tower: its kind, dimensions and the features VILA takes from it. */
function describeTower(v: VisionTowerConfig, select: VisionSelect): string {
  const grid = Math.floor(v.imageSize / v.patchSize);
  const layers = `${v.layers} layers (${select.layersToRun} used), ${v.heads} heads, FFN ${v.intermediateSize}`;
  if (v.kind === 'siglip') {
    return `SigLIP: image ${v.imageSize}, patch ${v.patchSize} (grid ${grid}×${grid}), hidden ${v.hiddenSize}, ${layers}, features '${select.feature}'`;
  }
  const tokens = grid * grid + (select.feature === 'patch' ? 0 : 1);
  return (
    `InternViT: image ${v.imageSize} (ImageNet mean/std), patch ${v.patchSize} (CLS + grid ${grid}×${grid}), hidden ${v.hiddenSize}, ${layers}, ` +
    `RMSNorm eps ${v.layerNormEps}, ${v.qkNormalization ? 'q/k RMSNorm' : 'no q/k norm'}, ${v.qkvBias ? 'qkv bias' : 'no qkv bias'}, layer scale, ` +
    `features '${select.feature}' (${tokens} tokens${select.feature === 'patch' ? ', CLS dropped' : ''})`
  );
}

/** Human-readable lines for the summary. */
export function formatSummary(s: ModelSummary): string {
  const { llm, vision, projector, select } = s.config;
  const fmtCount = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} K`);
  const lines = [`${s.root}: ${s.kind === 'vila' ? 'VILA 1.5 (LlavaLlamaModel)' : 'Llama (text only)'}`];
  lines.push(
    `  llm          Llama: hidden ${llm.hiddenSize}, ${llm.layers} layers, ${llm.heads} heads (${llm.kvHeads} KV, head dim ${llm.headDim}), ` +
      `FFN ${llm.intermediateSize}, vocab ${llm.vocabSize}, rope θ ${llm.ropeTheta}, RMSNorm eps ${llm.rmsNormEps}, ` +
      `${llm.tieWordEmbeddings ? 'tied' : 'untied'} head, context ${s.config.modelMaxLength}`,
  );
  if (vision !== undefined && select !== undefined) lines.push(`  vision_tower ${describeTower(vision, select)}`);
  const { s2 } = s.config;
  if (s2 !== undefined && vision !== undefined) {
    const crops = s2.scales.map((sc) => (sc / s2.maxSplitSize) ** 2).join(' + ');
    lines.push(`  s2           scales ${s2.scales.join(', ')} (crops of ${s2.maxSplitSize}: ${crops}), image preprocessed at ${s2.scales.at(-1)}, features ${vision.hiddenSize} × ${s2.scales.length} wide`);
  }
  if (projector !== undefined) {
    const name = typeof projector === 'string' ? projector : `mlp${projector.mlpGelu}x_gelu`;
    lines.push(`  mm_projector ${name}, image aspect '${s.config.imageAspectRatio}'`);
  }
  for (const p of s.parts) {
    const dt = Object.entries(p.dtypes).map(([d, n]) => `${d} ${fmtCount(n)}`).join(', ');
    lines.push(`  ${p.part.padEnd(12)} ${fmtCount(p.parameters)} parameters in ${p.tensors} tensors, ${(p.bytes / 1e6).toFixed(1)} MB (${dt})`);
    if (p.int4 !== undefined) {
      lines.push(`  ${''.padEnd(12)} int4 AWQ: ${p.int4.linears} linears, ${p.int4.layouts.join(' + ')}, group size ${llm.awqGroupSize ?? '128 (llm-awq default)'}`);
    }
  }
  lines.push(`  total        ${fmtCount(s.parameters)} parameters, ${(s.bytes / 1e6).toFixed(1)} MB`);
  return lines.join('\n');
}
