// Tensors: contiguous, row-major, no strides or views. A tensor is a dtype, a shape and the typed
// array holding its elements. 16-bit floats (f16, bf16) are kept as their raw bits in a
// Uint16Array so that weights stay in their stored dtype; `f32At` reads any float dtype.

import { InputError } from './errors.js';

export type FloatDType = 'f32' | 'f16' | 'bf16';
export type DType = FloatDType | 'f64' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export type F32Tensor = Tensor<'f32'> & { readonly data: Float32Array };

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  f64: 8,
  f32: 4,
  f16: 2,
  bf16: 2,
  i64: 8,
  i32: 4,
  i16: 2,
  i8: 1,
  u8: 1,
  bool: 1,
};

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A new zero-filled f32 tensor. */
export function zeros(shape: readonly number[]): F32Tensor {
  return { dtype: 'f32', shape: [...shape], data: new Float32Array(numel(shape)) };
}

/** Wrap an existing Float32Array (no copy); its length must match the shape. */
export function f32(data: Float32Array, shape: readonly number[]): F32Tensor {
  if (data.length !== numel(shape)) {
    throw new InputError(`f32 tensor of shape ${shapeString(shape)} needs ${numel(shape)} elements, got ${data.length}`);
  }
  return { dtype: 'f32', shape: [...shape], data };
}

/**
 * A tensor whose elements live outside JavaScript (a CUDA device buffer, src/cuda/tensor.ts)
 * makes its own views: reshape() and rows() call this method instead of touching `data`, so the
 * view keeps pointing at the same buffer (at `offset` more elements). Plain tensors lack it.
 */
export const MAKE_VIEW: unique symbol = Symbol('vila.makeView');
type ViewMaker = { [MAKE_VIEW]?: (shape: readonly number[], offset: number) => Tensor };

/** The same elements under another shape with the same element count (no copy). */
export function reshape<T extends Tensor>(t: T, shape: readonly number[]): T {
  if (numel(shape) !== numel(t.shape)) {
    throw new InputError(`cannot reshape ${shapeString(t.shape)} to ${shapeString(shape)}`);
  }
  const view = (t as ViewMaker)[MAKE_VIEW];
  if (view !== undefined) return view.call(t, shape, 0) as T;
  return { ...t, shape: [...shape] };
}

/** Rows [start, end) of a 2-D f32 tensor as a new tensor sharing the same memory. */
export function rows(t: F32Tensor, start: number, end: number): F32Tensor {
  const [m, n] = t.shape as [number, number];
  if (t.shape.length !== 2 || start < 0 || end > m || start > end) {
    throw new InputError(`rows(${start}, ${end}) out of range for ${shapeString(t.shape)}`);
  }
  const view = (t as ViewMaker)[MAKE_VIEW];
  if (view !== undefined) return view.call(t, [end - start, n], start * n) as F32Tensor;
  return { dtype: 'f32', shape: [end - start, n], data: t.data.subarray(start * n, end * n) };
}

// --- 16-bit float conversions ----------------------------------------------------------------

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** bf16 bits → f32: the bf16 pattern is the top half of the f32 pattern (exact). */
export function bf16ToF32(bits: number): number {
  u32Scratch[0] = bits << 16;
  return f32Scratch[0]!;
}

/** f16 bits → f32 (exact, subnormals and infinities included). */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** f32 → bf16 bits, round to nearest even (what torch's `.to(torch.bfloat16)` does). */
export function f32ToBf16(x: number): number {
  f32Scratch[0] = x;
  const u = u32Scratch[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff; // NaN stays NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 → f16 bits, round to nearest even, with subnormals, overflow to infinity. */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  const u = u32Scratch[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++;
  return sign | r;
}

let F16_TABLE: Float32Array | undefined;

/** All 65536 f16 values as f32 (256 KiB, built on first use): bulk decoding by lookup. */
function f16Table(): Float32Array {
  if (F16_TABLE === undefined) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = f16ToF32(h);
  }
  return F16_TABLE;
}

/** A reader for element i of any float tensor, as a JS number. */
export function floatReader(t: Tensor): (i: number) => number {
  const d = t.data;
  switch (t.dtype) {
    case 'f32':
    case 'f64':
      return (i) => (d as Float32Array)[i]!;
    case 'bf16':
      return (i) => bf16ToF32((d as Uint16Array)[i]!);
    case 'f16':
      return (i) => f16ToF32((d as Uint16Array)[i]!);
    default:
      throw new InputError(`tensor of dtype ${t.dtype} is not a float tensor`);
  }
}

/** Convert any float tensor to a new f32 tensor (or return it when already f32). */
export function toF32(t: Tensor): F32Tensor {
  if (t.dtype === 'f32') return t as F32Tensor;
  const read = floatReader(t);
  const out = new Float32Array(numel(t.shape));
  for (let i = 0; i < out.length; i++) out[i] = read(i);
  return { dtype: 'f32', shape: [...t.shape], data: out };
}

/** Decode elements [start, start+n) of a float tensor into `dst` (f32). */
export function decodeFloats(t: Tensor, start: number, n: number, dst: Float32Array): void {
  const d = t.data;
  if (t.dtype === 'f32' || t.dtype === 'f64') {
    for (let i = 0; i < n; i++) dst[i] = (d as Float32Array)[start + i]!;
  } else if (t.dtype === 'bf16') {
    const u = new Uint32Array(dst.buffer, dst.byteOffset, n);
    for (let i = 0; i < n; i++) u[i] = (d as Uint16Array)[start + i]! << 16;
  } else if (t.dtype === 'f16') {
    const table = f16Table();
    for (let i = 0; i < n; i++) dst[i] = table[(d as Uint16Array)[start + i]!]!;
  } else {
    throw new InputError(`tensor of dtype ${t.dtype} is not a float tensor`);
  }
}
