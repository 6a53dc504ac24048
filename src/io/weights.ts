// A folder's weights as one name → tensor source, whatever the files: a sharded checkpoint
// (model.safetensors.index.json + shards, as HF writes the llm/ folder), a single
// model.safetensors, or else every *.safetensors file in the folder, or else one torch .pt file
// (TinyChat v2 AWQ). Nothing is read until a
// tensor is asked for.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FormatError, WeightError } from '../errors.js';
import { openPt } from './pt.js';
import { SafetensorsFile, type TensorInfo } from './safetensors.js';
import type { Tensor } from '../tensor.js';

export interface WeightSource {
  /** The folder the weights came from (for messages). */
  readonly dir: string;
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  read(name: string): Tensor;
  /** The file holding a tensor (for messages). */
  fileOf(name: string): string;
  close(): void;
}

const INDEX = 'model.safetensors.index.json';

export function openWeights(dir: string): WeightSource {
  if (!existsSync(dir)) throw new WeightError('weights folder does not exist', dir);
  const indexPath = join(dir, INDEX);
  if (existsSync(indexPath)) return openSharded(dir, indexPath);
  const single = join(dir, 'model.safetensors');
  const files = existsSync(single)
    ? [single]
    : readdirSync(dir)
        .filter((f) => f.endsWith('.safetensors'))
        .sort()
        .map((f) => join(dir, f));
  if (files.length === 0) {
    // TinyChat v2 AWQ checkpoints are one torch.save'd state dict, e.g. llm/*-awq-v2.pt (spec/awq.md §3).
    const pts = readdirSync(dir).filter((f) => f.endsWith('.pt')).sort();
    if (pts.length === 1) return openPt(join(dir, pts[0]!), dir);
    if (pts.length > 1) throw new WeightError(`several *.pt files and no safetensors: ${pts.join(', ')}; expected one`, dir);
    throw new WeightError('no model.safetensors, sharded index, *.safetensors or *.pt file', dir);
  }
  const byName = new Map<string, SafetensorsFile>();
  const opened = files.map((f) => SafetensorsFile.open(f));
  for (const file of opened) {
    for (const name of file.names()) {
      const other = byName.get(name);
      if (other !== undefined) throw new FormatError(`tensor '${name}' is also in ${other.path}`, file.path);
      byName.set(name, file);
    }
  }
  return sourceOver(dir, byName, opened);
}

function openSharded(dir: string, indexPath: string): WeightSource {
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new ConfigError(`not valid JSON: ${(e as Error).message}`, indexPath);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new ConfigError("field 'weight_map' is missing or not an object", indexPath);
  }
  const shards = new Map<string, SafetensorsFile>();
  const byName = new Map<string, SafetensorsFile>();
  try {
    for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
        throw new ConfigError(`weight_map['${name}'] is not a file name in this folder: ${JSON.stringify(file)}`, indexPath);
      }
      let shard = shards.get(file);
      if (shard === undefined) {
        const path = join(dir, file);
        if (!existsSync(path)) throw new WeightError(`shard '${file}' named for tensor '${name}' does not exist`, indexPath);
        shard = SafetensorsFile.open(path);
        shards.set(file, shard);
      }
      if (!shard.tensors.has(name)) throw new WeightError(`index places tensor '${name}' in this shard, which lacks it`, shard.path);
      byName.set(name, shard);
    }
    for (const shard of shards.values()) {
      for (const name of shard.names()) {
        if (byName.get(name) !== shard) {
          throw new WeightError(`tensor '${name}' is in this shard but the index ${INDEX} does not place it here`, shard.path);
        }
      }
    }
  } catch (e) {
    for (const s of shards.values()) s.close();
    throw e;
  }
  return sourceOver(dir, byName, [...shards.values()]);
}

function sourceOver(dir: string, byName: Map<string, SafetensorsFile>, files: SafetensorsFile[]): WeightSource {
  const fileFor = (name: string): SafetensorsFile => {
    const f = byName.get(name);
    if (f === undefined) throw new WeightError(`no tensor named '${name}'`, dir);
    return f;
  };
  return {
    dir,
    names: () => [...byName.keys()],
    has: (name) => byName.has(name),
    info: (name) => fileFor(name).info(name),
    read: (name) => fileFor(name).read(name),
    fileOf: (name) => fileFor(name).path,
    close: () => files.forEach((f) => f.close()),
  };
}
