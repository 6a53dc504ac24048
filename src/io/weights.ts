// A folder's weights as one name → tensor source, whatever the files: a sharded checkpoint
// (model.safetensors.index.json + shards, as HF writes the llm/ folder), a single
// model.safetensors, or else every *.safetensors file in the folder; failing those, torch files
// (read by src/io/pt.ts, never executed): pytorch_model.bin.index.json + shards, a single
// pytorch_model.bin, or every *.pt file (TinyChat v2 AWQ writes one, llm/*-awq-v2.pt). Other
// *.bin files (training_args.bin is a pickled object, not weights) are never opened. Nothing is
// read until a tensor is asked for.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
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
const TORCH_INDEX = 'pytorch_model.bin.index.json';

/** What a shard or file gives: names and per-name access. */
interface TensorFile {
  readonly path: string;
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  read(name: string): Tensor;
  close(): void;
}

/** One .pt / .bin file as a TensorFile. */
function torchFile(path: string): TensorFile {
  const src = openPt(path);
  return { path, names: () => src.names(), has: (n) => src.has(n), info: (n) => src.info(n), read: (n) => src.read(n), close: () => src.close() };
}

const safetensorsFile = (path: string): TensorFile => {
  const f = SafetensorsFile.open(path);
  return { path, names: () => f.names(), has: (n) => f.tensors.has(n), info: (n) => f.info(n), read: (n) => f.read(n), close: () => f.close() };
};

export function openWeights(dir: string): WeightSource {
  if (!existsSync(dir)) throw new WeightError('weights folder does not exist', dir);
  const indexPath = join(dir, INDEX);
  if (existsSync(indexPath)) return openSharded(dir, indexPath, safetensorsFile);
  const single = join(dir, 'model.safetensors');
  const entries = readdirSync(dir).sort();
  const files = existsSync(single) ? [single] : entries.filter((f) => f.endsWith('.safetensors')).map((f) => join(dir, f));
  if (files.length > 0) return openUnion(dir, files, safetensorsFile);
  const torchIndex = join(dir, TORCH_INDEX);
  if (existsSync(torchIndex)) return openSharded(dir, torchIndex, torchFile);
  if (existsSync(join(dir, 'pytorch_model.bin'))) return openUnion(dir, [join(dir, 'pytorch_model.bin')], torchFile);
  // TinyChat v2 AWQ checkpoints are one torch.save'd state dict, e.g. llm/*-awq-v2.pt (spec/awq.md §3).
  const pts = entries.filter((f) => f.endsWith('.pt')).map((f) => join(dir, f));
  if (pts.length > 0) return openUnion(dir, pts, torchFile);
  throw new WeightError(`no model.safetensors, ${INDEX}, *.safetensors, ${TORCH_INDEX}, pytorch_model.bin or *.pt file`, dir);
}

/** Every tensor of every file; a name in two files is an error naming both. */
function openUnion(dir: string, paths: readonly string[], open: (path: string) => TensorFile): WeightSource {
  const byName = new Map<string, TensorFile>();
  const opened: TensorFile[] = [];
  try {
    for (const path of paths) {
      const file = open(path);
      opened.push(file);
      for (const name of file.names()) {
        const other = byName.get(name);
        if (other !== undefined) throw new FormatError(`tensor '${name}' is also in ${other.path}`, file.path);
        byName.set(name, file);
      }
    }
  } catch (e) {
    for (const f of opened) f.close();
    throw e;
  }
  return sourceOver(dir, byName, opened);
}

function openSharded(dir: string, indexPath: string, open: (path: string) => TensorFile): WeightSource {
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
  const shards = new Map<string, TensorFile>();
  const byName = new Map<string, TensorFile>();
  const indexName = basename(indexPath);
  try {
    for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
        throw new ConfigError(`weight_map['${name}'] is not a file name in this folder: ${JSON.stringify(file)}`, indexPath);
      }
      let shard = shards.get(file);
      if (shard === undefined) {
        const path = join(dir, file);
        if (!existsSync(path)) throw new WeightError(`shard '${file}' named for tensor '${name}' does not exist`, indexPath);
        shard = open(path);
        shards.set(file, shard);
      }
      if (!shard.has(name)) throw new WeightError(`index places tensor '${name}' in this shard, which lacks it`, shard.path);
      byName.set(name, shard);
    }
    for (const shard of shards.values()) {
      for (const name of shard.names()) {
        if (byName.get(name) !== shard) {
          throw new WeightError(`tensor '${name}' is in this shard but the index ${indexName} does not place it here`, shard.path);
        }
      }
    }
  } catch (e) {
    for (const s of shards.values()) s.close();
    throw e;
  }
  return sourceOver(dir, byName, [...shards.values()]);
}

function sourceOver(dir: string, byName: Map<string, TensorFile>, files: TensorFile[]): WeightSource {
  const fileFor = (name: string): TensorFile => {
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
