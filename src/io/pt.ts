// A WeightSource over a torch.save'd state dict (`.pt`, spec/awq.md §3.2-3.3): the zip's
// `<prefix>/data.pkl` is parsed by the restricted unpickler (nothing is executed) and each
// tensor is read by byte range from its storage record `<prefix>/data/<key>`. Only contiguous
// tensors are accepted; a view at an element offset into a larger storage is read by range.

import { FormatError } from '../errors.js';
import { DTYPE_BYTES, numel, shapeString, type DType, type Tensor } from '../tensor.js';
import { STORED_DTYPE, typedView } from './dtypes.js';
import { parseStateDict, type PickledTensor } from './pickle.js';
import type { TensorInfo } from './safetensors.js';
import type { WeightSource } from './weights.js';
import { ZipFile } from './zip.js';


export function openPt(path: string, dir: string = path): WeightSource {
  const zip = ZipFile.open(path);
  try {
    const pkls = zip.names().filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
    // The prefix is the file's stem or 'archive' (§3.2): find it by suffix.
    if (pkls.length !== 1) throw new FormatError(`expected one data.pkl record in the archive, found ${pkls.length}`, path);
    const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
    const tensors = parseStateDict(zip.read(pkls[0]!), `${path}: ${pkls[0]}`);
    const infos = new Map<string, TensorInfo & { entry: string; within: number }>();
    for (const [name, t] of tensors) infos.set(name, locate(zip, path, prefix, name, t));
    const get = (name: string): TensorInfo & { entry: string; within: number } => {
      const i = infos.get(name);
      if (i === undefined) throw new FormatError(`no tensor named '${name}'`, path);
      return i;
    };
    return {
      dir,
      names: () => [...infos.keys()],
      has: (name) => infos.has(name),
      info: (name) => get(name),
      read: (name): Tensor => {
        const i = get(name);
        const dtype = i.dtype!;
        const bytes = new Uint8Array(i.byteLength);
        zip.readInto(i.entry, i.within, bytes);
        return { dtype, shape: i.shape, data: typedView(dtype, bytes.buffer) };
      },
      fileOf: () => path,
      close: () => zip.close(),
    };
  } catch (e) {
    zip.close();
    throw e;
  }
}

function locate(zip: ZipFile, path: string, prefix: string, name: string, t: PickledTensor): TensorInfo & { entry: string; within: number } {
  const where = `tensor '${name}'`;
  const entry = `${prefix}data/${t.storageKey}`;
  if (!zip.entries.has(entry)) throw new FormatError(`${where}: storage record '${entry}' is missing`, path);
  const elem = DTYPE_BYTES[t.storageDtype];
  const size = zip.entry(entry).size;
  if (size !== t.storageNumel * elem) {
    throw new FormatError(`${where}: storage record '${entry}' has ${size} bytes, expected ${t.storageNumel} × ${elem}`, path);
  }
  // Row-major contiguity; dimensions of size 1 may carry any stride (torch leaves them free).
  let expected = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d]! !== 1 && t.stride[d] !== expected) {
      throw new FormatError(`${where}: stride [${t.stride.join(', ')}] for shape ${shapeString(t.shape)} is not contiguous; only contiguous tensors are supported`, path);
    }
    expected *= t.shape[d]!;
  }
  const n = numel(t.shape);
  if (t.offset < 0 || t.offset + n > t.storageNumel) {
    throw new FormatError(`${where}: elements [${t.offset}, ${t.offset + n}) lie outside its storage of ${t.storageNumel}`, path);
  }
  const within = t.offset * elem;
  return {
    name,
    storedDtype: STORED_DTYPE[t.storageDtype],
    dtype: t.storageDtype,
    shape: t.shape,
    offset: zip.dataStart(entry) + within,
    byteLength: n * elem,
    entry,
    within,
  };
}

