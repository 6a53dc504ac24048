// The strict key table between a checkpoint and a model's fields. Each model asks for the
// tensors it needs by key, with the shape it expects; a missing tensor or a wrong shape is an
// error naming the key and the file; tensors nobody asked for are reported (not silently
// dropped) unless the model declares them as known to be unused (e.g. SigLIP's pooling head).

import { WeightError } from '../errors.js';
import type { WeightSource } from '../io/weights.js';
import { detectAwqLayout, fromAutoAwqGemm, fromAwqGemv, type AwqKeyInfo, type AwqScales } from '../quant/awq_layouts.js';
import { paddedGroups, validateQ4, type Q4Tensor, type Q4ScaleDType } from '../quant/q4.js';
import { sameShape, shapeString, type FloatDType, type Tensor } from '../tensor.js';

const FLOAT: readonly string[] = ['f32', 'f16', 'bf16'];

export interface BindReport {
  /** Tensors in the files that no model field took and that are not known to be unused. */
  readonly unknown: string[];
}

export type ProgressFn = (done: number, total: number, what: string) => void;

export class WeightBinder {
  private readonly taken = new Set<string>();

  constructor(
    readonly source: WeightSource,
    /** Prefix added to every key (e.g. "vision_model."). */
    readonly prefix = '',
    private readonly onTensor?: (bytes: number, key: string) => void,
    /** Moves each tensor read into a backend's memory (Backend.adopt), so no second copy stays. */
    private readonly adopt?: <T extends Tensor>(t: T) => T,
  ) {}

  /** Read a float tensor and check its shape. */
  take(key: string, shape: readonly number[]): Tensor<FloatDType> {
    const t = this.readFloat(key, shape);
    return this.adopt === undefined ? t : this.adopt(t);
  }

  /** A float tensor read from the file, checked, marked taken, not yet adopted. */
  private readFloat(key: string, shape: readonly number[]): Tensor<FloatDType> {
    const full = this.prefix + key;
    if (!this.source.has(full)) {
      throw new WeightError(`missing tensor '${full}' (expected shape ${shapeString(shape)})`, this.source.dir);
    }
    const info = this.source.info(full);
    const file = this.source.fileOf(full);
    if (!sameShape(info.shape, shape)) {
      throw new WeightError(`tensor '${full}' has shape ${shapeString(info.shape)}, expected ${shapeString(shape)}`, file);
    }
    if (info.dtype === null || !FLOAT.includes(info.dtype)) {
      throw new WeightError(`tensor '${full}' has dtype ${info.storedDtype}; a float weight (F32, F16, BF16) is needed`, file);
    }
    const read = this.source.read(full) as Tensor<FloatDType>;
    this.taken.add(full);
    this.onTensor?.(info.byteLength, full);
    return read;
  }

  /**
   * A float tensor of `shape` split along its first dimension into `parts` equal blocks, each a
   * contiguous tensor of its own, moved into the backend one by one (a fused qkv Linear becomes
   * the q, k and v weights; the whole stored tensor is never adopted).
   */
  takeSplit(key: string, shape: readonly number[], parts: number): Tensor<FloatDType>[] {
    const full = this.prefix + key;
    const rows = shape[0]!;
    if (rows % parts !== 0) throw new WeightError(`tensor '${full}': ${rows} rows do not split into ${parts} parts`, this.source.dir);
    const read = this.readFloat(key, shape);
    const size = read.data.length / parts;
    const partShape = [rows / parts, ...shape.slice(1)];
    return Array.from({ length: parts }, (_, i) => {
      const t = { ...read, shape: partShape, data: read.data.slice(i * size, (i + 1) * size) } as Tensor<FloatDType>;
      return this.adopt === undefined ? t : this.adopt(t);
    });
  }

  /**
   * A linear layer's weight (n outputs, k inputs) under `base` (e.g. "model.layers.0.mlp.up_proj"):
   * the float `base.weight`, or an int4 AWQ weight as a Q4Tensor with `groupSize`. The int4
   * layout is detected from the keys' names, dtypes and shapes (quant/awq_layouts.ts
   * detectAwqLayout): TinyChat v2 `{qweight i16, scales, scaled_zeros}` and GEMVFast
   * `{qweight i16, scales, qzeros float}` are taken as they are; AutoAWQ GEMM and llm-awq v1 GEMV
   * `{qweight i32, qzeros i32, scales}` are converted once, here, to the v2 layout.
   */
  takeLinear(base: string, n: number, k: number, groupSize: number): Tensor<FloatDType> | Q4Tensor {
    const full = this.prefix + base;
    if (!this.source.has(`${full}.qweight`)) return this.take(`${base}.weight`, [n, k]);
    const file = this.source.fileOf(`${full}.qweight`);
    if (this.source.has(`${full}.weight`)) throw new WeightError(`linear '${full}' has both a float weight and an int4 qweight`, file);
    if (k % groupSize !== 0) throw new WeightError(`int4 group size ${groupSize} does not divide k = ${k} of '${full}'`, file);
    const keys: Record<string, AwqKeyInfo> = {};
    for (const s of ['qweight', 'qzeros', 'scales', 'scaled_zeros'] as const) {
      if (this.source.has(`${full}.${s}`)) keys[s] = this.source.info(`${full}.${s}`);
    }
    const layout = detectAwqLayout(full, keys, n, k, groupSize, file);
    const gp = paddedGroups(k, groupSize);
    let w: Q4Tensor;
    if (layout === 'tinychat-v2' || layout === 'gemvfast') {
      // int16 on disk, the same bits as uint16 (§2.2 step 4: the packing wraps). Reinterpreted
      // before adopt(), so the array the backend registers is the one the Q4Tensor holds.
      const qweight = this.takeRaw(`${base}.qweight`, [n / 4, k], ['i16'], (t) => {
        const d = t.data as Int16Array;
        return { ...t, data: new Uint16Array(d.buffer, d.byteOffset, d.length) };
      });
      const scales = this.takeRaw(`${base}.scales`, [gp, n], FLOAT);
      const scaledZeros = this.takeRaw(`${base}.${layout === 'gemvfast' ? 'qzeros' : 'scaled_zeros'}`, [gp, n], FLOAT);
      w = {
        dtype: 'q4',
        shape: [n, k],
        groupSize,
        qweight: qweight.data as Uint16Array,
        scales: scales as Tensor<Q4ScaleDType>,
        scaledZeros: scaledZeros as Tensor<Q4ScaleDType>,
      };
    } else {
      // Converted once: the stored tensors are read without adopt() and dropped; the converted
      // buffers are what the backend registers.
      const gemm = layout === 'autoawq-gemm';
      const groups = k / groupSize;
      const qweight = this.takeRaw(`${base}.qweight`, gemm ? [k, n / 8] : [n, k / 8], ['i32'], undefined, false);
      const qzeros = this.takeRaw(`${base}.qzeros`, gemm ? [groups, n / 8] : [n, gp / 8], ['i32'], undefined, false);
      const scales = this.takeRaw(`${base}.scales`, gemm ? [groups, n] : [n, gp], ['f16', 'bf16'], undefined, false);
      const t = { qweight: qweight.data as Int32Array, qzeros: qzeros.data as Int32Array, scales: scales as AwqScales };
      const where = `${file}: '${full}'`;
      const c = gemm ? fromAutoAwqGemm(t, n, k, groupSize, where) : fromAwqGemv(t, n, k, groupSize, where);
      const adopt = <T extends Tensor>(x: T): T => (this.adopt === undefined ? x : this.adopt(x));
      w = {
        ...c,
        qweight: adopt({ dtype: 'i16', shape: [n / 4, k], data: c.qweight }).data as Uint16Array,
        scales: adopt(c.scales),
        scaledZeros: adopt(c.scaledZeros),
      };
    }
    validateQ4(w, `${file}: '${full}'`);
    return w;
  }

  /** Read a tensor of one of `dtypes` with shape `shape`, marking it taken. */
  private takeRaw(key: string, shape: readonly number[], dtypes: readonly string[], view: (t: Tensor) => Tensor = (t) => t, adopt = true): Tensor {
    const full = this.prefix + key;
    if (!this.source.has(full)) throw new WeightError(`missing tensor '${full}' (expected shape ${shapeString(shape)})`, this.source.dir);
    const info = this.source.info(full);
    const file = this.source.fileOf(full);
    if (!sameShape(info.shape, shape)) throw new WeightError(`tensor '${full}' has shape ${shapeString(info.shape)}, expected ${shapeString(shape)}`, file);
    if (info.dtype === null || !dtypes.includes(info.dtype)) {
      throw new WeightError(`tensor '${full}' has dtype ${info.storedDtype}; expected ${dtypes.join(' or ')}`, file);
    }
    const t = view(this.source.read(full));
    this.taken.add(full);
    this.onTensor?.(info.byteLength, full);
    return this.adopt === undefined || !adopt ? t : this.adopt(t);
  }

  /** Total bytes of the tensors matching `keep` (for progress totals). */
  plannedBytes(keep: (key: string) => boolean): number {
    let total = 0;
    for (const name of this.source.names()) {
      if (name.startsWith(this.prefix) && keep(name.slice(this.prefix.length))) total += this.source.info(name).byteLength;
    }
    return total;
  }

  /** Report tensors not taken; `knownUnused` gets keys without the prefix. */
  finish(knownUnused: (key: string) => boolean = () => false): BindReport {
    const unknown = this.source
      .names()
      .filter((n) => !this.taken.has(n) && !(n.startsWith(this.prefix) && knownUnused(n.slice(this.prefix.length))))
      .sort();
    return { unknown };
  }
}
