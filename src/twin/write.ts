// Writes a shape twin: a folder laid out as a published VILA 1.5 member (spec/vila.md §1) with
// its configs, tensor names and shapes, and random weights (or zeros as sparse holes, for folders
// that are only inspected). bf16 twins shard llm/ like the published repo (model-0000i-of-0000N,
// split by layer, with model.safetensors.index.json); AWQ twins hold llm/<name>-w4-g128-awq-v2.pt,
// the TinyChat v2 state dict, as the -AWQ repos do. The vision tower and projector stay bf16.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTorchStateDict } from '../io/pt_write.js';
import { writeSafetensors } from '../io/safetensors_write.js';
import { DTYPE_BYTES, numel } from '../tensor.js';
import { generationConfig, llmConfig, preprocessorConfig, projectorConfig, topConfig, visionConfig } from './configs.js';
import type { TwinMember } from './members.js';
import { llmTensors, projectorTensors, TwinTensors, visionTensors, type Fill, type TwinTensor } from './tensors.js';
import { writeTwinTokenizer } from './tokenizer.js';

export interface TwinOptions {
  readonly out: string;
  readonly member: TwinMember;
  readonly awq: boolean;
  readonly fill: Fill;
  /** The vision tower's and projector's fill, when it differs (a text-only benchmark never reads them). */
  readonly visionFill?: Fill;
  readonly seed: number;
  /** Bytes written so far, bytes in all, the tensor just written. */
  readonly onProgress?: (done: number, total: number, what: string) => void;
}

export interface TwinSummary {
  readonly files: string[];
  readonly tensors: number;
  readonly bytes: number;
}

const bytesOf = (t: TwinTensor): number => numel(t.spec.shape) * DTYPE_BYTES[t.spec.dtype];

/** Shard i (0-based) of n holding a llm tensor: the embedding in the first, lm_head and the final norm in the last, layers spread evenly. */
function shardOf(name: string, layers: number, n: number): number {
  const m = /^model\.layers\.(\d+)\./.exec(name);
  if (m !== null) return Math.min(n - 1, Math.floor((Number(m[1]) * n) / layers));
  return name === 'model.embed_tokens.weight' ? 0 : n - 1;
}

export async function writeTwin(o: TwinOptions): Promise<TwinSummary> {
  const m = o.member;
  const gen = new TwinTensors(o.seed, o.fill);
  const llm = llmTensors(m, gen, o.awq);
  const visionGen = o.visionFill === undefined || o.visionFill === o.fill ? gen : new TwinTensors(o.seed + 1, o.visionFill);
  const vision = visionTensors(m, visionGen);
  const projector = projectorTensors(m, visionGen);
  const total = [llm, vision, projector].reduce((a, t) => a + [...t.values()].reduce((b, e) => b + bytesOf(e), 0), 0);
  let done = 0;
  const counted = (t: Map<string, TwinTensor>): Map<string, TwinTensor> =>
    new Map([...t].map(([k, e]) => [k, { spec: e.spec, get: () => {
      const v = e.get();
      done += bytesOf(e);
      o.onProgress?.(done, total, k);
      return v;
    } }] as const));

  const dir = (s: string): string => {
    const d = join(o.out, s);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const llmDir = dir('llm');
  const visionDir = dir('vision_tower');
  const projectorDir = dir('mm_projector');
  const files: string[] = [];
  const json = (path: string, v: unknown): void => {
    writeFileSync(join(o.out, path), `${JSON.stringify(v, null, 2)}\n`);
    files.push(path);
  };
  json('config.json', topConfig(m));
  json('trainer_state.json', { note: `random-weight shape twin of ${m.repo}${o.awq ? '-AWQ' : ''}, written by vila-ts make-twin; never trained`, global_step: 0 });
  json('llm/config.json', llmConfig(m));
  json('llm/generation_config.json', generationConfig(m));
  json('vision_tower/config.json', visionConfig(m));
  const pre = preprocessorConfig(m);
  if (pre !== undefined) json('vision_tower/preprocessor_config.json', pre);
  json('mm_projector/config.json', projectorConfig());
  await writeTwinTokenizer(m.tokenizer, llmDir, m.llm.maxPositions);

  const llmCounted = counted(llm);
  if (o.awq) {
    writeTorchStateDict(join(llmDir, m.awqFile), llmCounted);
    files.push(`llm/${m.awqFile}`);
  } else {
    const n = m.llmShards;
    const shardName = (i: number): string => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    const weightMap: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      const part = new Map([...llmCounted].filter(([k]) => shardOf(k, m.llm.layers, n) === i));
      for (const k of part.keys()) weightMap[k] = shardName(i);
      writeSafetensors(join(llmDir, shardName(i)), part);
      files.push(`llm/${shardName(i)}`);
    }
    const totalSize = [...llm.values()].reduce((a, e) => a + bytesOf(e), 0);
    json('llm/model.safetensors.index.json', { metadata: { total_size: totalSize }, weight_map: weightMap });
  }
  writeSafetensors(join(visionDir, 'model.safetensors'), counted(vision));
  writeSafetensors(join(projectorDir, 'model.safetensors'), counted(projector));
  files.push('vision_tower/model.safetensors', 'mm_projector/model.safetensors');
  return { files, tensors: llm.size + vision.size + projector.size, bytes: total };
}
