// Dtype spellings and typed-array views shared by the weight readers and writers.

import type { DType, TensorData } from '../tensor.js';

/** Our dtypes → the safetensors spelling (also used in messages as TensorInfo.storedDtype). */
export const STORED_DTYPE: Readonly<Record<DType, string>> = {
  f64: 'F64',
  f32: 'F32',
  f16: 'F16',
  bf16: 'BF16',
  i64: 'I64',
  i32: 'I32',
  i16: 'I16',
  i8: 'I8',
  u8: 'U8',
  bool: 'BOOL',
};

/** The typed array holding elements of `dtype` over `buf` (16-bit floats as raw bits). */
export function typedView(dtype: DType, buf: ArrayBuffer): TensorData {
  switch (dtype) {
    case 'f64':
      return new Float64Array(buf);
    case 'f32':
      return new Float32Array(buf);
    case 'f16':
    case 'bf16':
      return new Uint16Array(buf);
    case 'i64':
      return new BigInt64Array(buf);
    case 'i32':
      return new Int32Array(buf);
    case 'i16':
      return new Int16Array(buf);
    case 'i8':
      return new Int8Array(buf);
    case 'u8':
    case 'bool':
      return new Uint8Array(buf);
  }
}
