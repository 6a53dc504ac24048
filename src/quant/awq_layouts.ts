// The other AWQ int4 layouts (spec/awq.md §0, §5), converted ONCE at load time into the internal
// TinyChat v2 Q4Tensor (§2) that every backend reads:
//
//   layout          keys & dtypes                                 shapes (N out, K in, Gp padded)
//   tinychat-v2     qweight i16, scales f, scaled_zeros f          [N/4, K], [Gp, N], [Gp, N]
//   gemvfast        qweight i16, scales f, qzeros f (= −s·z)       same as v2 (AutoAWQ GemvFast)
//   autoawq-gemm    qweight i32, qzeros i32, scales f16/bf16       [K, N/8], [K/G, N/8], [K/G, N]
//   awq-gemv        qweight i32, qzeros i32, scales f16/bf16       [N, K/8], [N, Gp/8], [N, Gp]
//
// The layout is told from key names, dtypes and shapes of one linear, never from file names or
// the config's "version" (which llm-awq's convert_to_hf.py writes as "gemv" around v1 or v2).
//
// Rounding of the scaled zeros. The v1/GEMM formats store s (fp16) and the integer zero z, and
// dequantize W = (q − z)·s. The internal layout stores sz = −(s·z) and dequantizes
// W = round(q·s + sz) (§2.4). Here s·z is computed exactly in f64 (an 11-bit significand times a
// 4-bit integer) and rounded ONCE, to nearest even, to the scale dtype. (llm-awq's from_linear
// computes it in fp32 then casts — the same value, since s·z is exact in fp32 too; the offline
// repacker multiplies in fp16 — also the same single rounding.) So the dequantized q·s + sz can
// differ from (q − z)·s only by the rounding of s·z to fp16: at most half an fp16 ulp of s·z
// (≤ 2^-11·|s·z| ≤ 15·s·2^-11, under 0.75 % of one quantization step s; 2^-25 when s·z is
// below the fp16 normal range), plus the final rounding
// of the result that both forms share; when s·z is exactly representable (e.g. z a power of two
// or s with few significant bits) the two are bit-identical.

import { WeightError } from '../errors.js';
import { f32ToBf16, f32ToF16, floatReader, shapeString, type DType, type Tensor } from '../tensor.js';
import { packTinyChatV2, paddedGroups, roundBf16, roundF16, type Q4ScaleDType, type Q4Tensor } from './q4.js';

export type AwqLayout = 'tinychat-v2' | 'gemvfast' | 'autoawq-gemm' | 'awq-gemv';

/** What detection needs of one stored tensor. */
export interface AwqKeyInfo {
  readonly dtype: DType | null;
  /** As stored (e.g. "I32"), for messages; defaults to dtype. */
  readonly storedDtype?: string;
  readonly shape: readonly number[];
}

/** The tensors present under one linear's base name, by suffix (qweight, qzeros, scales, scaled_zeros). */
export type AwqKeys = Readonly<Partial<Record<'qweight' | 'qzeros' | 'scales' | 'scaled_zeros', AwqKeyInfo>>>;

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const dt = (x: AwqKeyInfo): string => x.storedDtype ?? String(x.dtype);

/**
 * Which AWQ layout one linear `base` (n outputs, k inputs, group size G) is stored in, from its
 * keys' names, dtypes and (to tell GEMM [K, N/8] from GEMV [N, K/8]) shapes. Throws a
 * WeightError naming the offending key; `where` is the file. Shapes of the chosen layout are
 * checked when the tensors are read, except where they are what tells two layouts apart.
 */
export function detectAwqLayout(base: string, keys: AwqKeys, n: number, k: number, G: number, where?: string): AwqLayout {
  const err = (key: string, msg: string): WeightError => new WeightError(`'${base}.${key}' ${msg}`, where);
  const missing = (key: string, why: string): WeightError => new WeightError(`missing tensor '${base}.${key}' (${why})`, where);
  const { qweight, qzeros, scales, scaled_zeros: scaledZeros } = keys;
  if (qweight === undefined) throw missing('qweight', 'an int4 linear needs it');
  if (qweight.dtype === 'i16') {
    if (qzeros !== undefined && scaledZeros !== undefined) throw err('qzeros', 'and scaled_zeros are both present; an int16 (v2) qweight has one of them');
    if (qzeros !== undefined) {
      if (qzeros.dtype !== 'f16' && qzeros.dtype !== 'bf16' && qzeros.dtype !== 'f32') {
        throw err('qzeros', `has dtype ${dt(qzeros)} next to an int16 qweight; GEMVFast stores it as float (−s·z)`);
      }
      return 'gemvfast';
    }
    if (scaledZeros === undefined) throw missing('scaled_zeros', 'an int16 qweight is TinyChat v2: qweight, scales, scaled_zeros; or GEMVFast with qzeros');
    return 'tinychat-v2';
  }
  if (qweight.dtype !== 'i32') throw err('qweight', `has dtype ${dt(qweight)}; expected int16 (TinyChat v2, GEMVFast) or int32 (AutoAWQ GEMM, llm-awq v1 GEMV)`);
  if (scaledZeros !== undefined) throw err('scaled_zeros', 'is present next to an int32 qweight; AutoAWQ GEMM/GEMV name the zeros qzeros (int32)');
  if (qzeros === undefined) throw missing('qzeros', 'an int32 qweight is AutoAWQ GEMM or GEMV: qweight, qzeros, scales');
  if (qzeros.dtype !== 'i32') throw err('qzeros', `has dtype ${dt(qzeros)}; an int32 qweight needs int32 packed zeros`);
  if (scales === undefined) throw missing('scales', 'an int4 linear needs it');
  const gemm = [k, n / 8];
  const gemv = [n, k / 8];
  const isGemm = same(qweight.shape, gemm);
  const isGemv = same(qweight.shape, gemv);
  if (isGemm && !isGemv) return 'autoawq-gemm';
  if (isGemv && !isGemm) return 'awq-gemv';
  if (isGemm && isGemv) {
    // n = k: the qweight shapes coincide; the scales tell them apart ([K/G, N] vs [N, Gp]).
    if (same(scales.shape, [k / G, n])) return 'autoawq-gemm';
    if (same(scales.shape, [n, paddedGroups(k, G)])) return 'awq-gemv';
    throw err('scales', `has shape ${shapeString(scales.shape)}; expected [${k / G}, ${n}] (AutoAWQ GEMM) or [${n}, ${paddedGroups(k, G)}] (GEMV) for group size ${G}`);
  }
  throw err('qweight', `has shape ${shapeString(qweight.shape)}; an int32 qweight is [${gemm.join(', ')}] (AutoAWQ GEMM) or [${gemv.join(', ')}] (GEMV) for n = ${n}, k = ${k}`);
}

/** AutoAWQ's AWQ_REVERSE_ORDER: output column o%8 sits in nibble REVERSE[o%8] (§5). */
const AWQ_REVERSE_ORDER = [0, 4, 1, 5, 2, 6, 3, 7] as const;

/** A float scale tensor of f16 or bf16 (the dtypes AutoAWQ writes). */
export type AwqScales = Tensor<'f16' | 'bf16'>;

function checkDims(n: number, k: number, G: number, where: string): void {
  if (!Number.isInteger(n) || n <= 0 || n % 8 !== 0) throw new WeightError(`int32-packed int4 weight needs n a positive multiple of 8, got ${n}`, where);
  if (!Number.isInteger(k) || k <= 0 || k % 64 !== 0) throw new WeightError(`int4 weight needs k a positive multiple of 64, got ${k}`, where);
  if (!Number.isInteger(G) || G <= 0 || k % G !== 0) throw new WeightError(`int4 group size ${G} does not divide k = ${k}`, where);
}

function checkLen(name: string, got: number, shape: readonly number[], where: string): void {
  const want = shape.reduce((a, b) => a * b, 1);
  if (got !== want) throw new WeightError(`${name} has ${got} elements, expected ${shapeString(shape)}`, where);
}

/**
 * Build the Q4Tensor from unpacked q (n·k, row-major [o][i]) and per-(group, output) s and z
 * given by accessors: scales (gp, n) copied bit-for-bit, sz = −(s·z) exact in f64 then rounded
 * once to the scale dtype (see the header).
 */
function build(
  q: Uint8Array,
  n: number,
  k: number,
  G: number,
  dtype: 'f16' | 'bf16',
  sBits: (g: number, o: number) => number,
  zAt: (g: number, o: number) => number,
): Q4Tensor {
  const gp = paddedGroups(k, G);
  const s = new Uint16Array(gp * n);
  const sz = new Uint16Array(gp * n);
  const decode = floatReader({ dtype, shape: [1], data: s });
  const round = dtype === 'f16' ? roundF16 : roundBf16;
  const enc = dtype === 'f16' ? f32ToF16 : f32ToBf16; // exact: its argument is already representable
  for (let g = 0; g < k / G; g++) {
    for (let o = 0; o < n; o++) {
      const j = g * n + o;
      s[j] = sBits(g, o);
      const z = zAt(g, o);
      sz[j] = z === 0 ? 0 : enc(round(-(decode(j) * z)));
    }
  }
  return {
    dtype: 'q4',
    shape: [n, k],
    groupSize: G,
    qweight: packTinyChatV2(q, n, k),
    scales: { dtype: dtype as Q4ScaleDType, shape: [gp, n], data: s },
    scaledZeros: { dtype: dtype as Q4ScaleDType, shape: [gp, n], data: sz },
  };
}

function scaleDtype(scales: Tensor, where: string): 'f16' | 'bf16' {
  if (scales.dtype !== 'f16' && scales.dtype !== 'bf16') throw new WeightError(`scales have dtype ${scales.dtype}; expected f16 or bf16`, where);
  return scales.dtype;
}

/**
 * AutoAWQ GEMM = llm-awq v0 (§5): qweight [K, N/8] int32 with nibble j of word qweight[i][c]
 * holding column 8c + AWQ_ORDER[j]; qzeros [K/G, N/8] the same way; scales [K/G, N];
 * W[o][i] = (q − z)·scales[i/G][o], nibbles unsigned.
 */
export function fromAutoAwqGemm(
  t: { qweight: Int32Array; qzeros: Int32Array; scales: AwqScales },
  n: number,
  k: number,
  G: number,
  where = 'fromAutoAwqGemm',
): Q4Tensor {
  checkDims(n, k, G, where);
  const groups = k / G;
  const w = n / 8;
  checkLen('qweight', t.qweight.length, [k, w], where);
  checkLen('qzeros', t.qzeros.length, [groups, w], where);
  checkLen('scales', t.scales.data.length, [groups, n], where);
  const dtype = scaleDtype(t.scales, where);
  const q = new Uint8Array(n * k);
  for (let i = 0; i < k; i++) {
    for (let o = 0; o < n; o++) q[o * k + i] = (t.qweight[i * w + (o >> 3)]! >>> (4 * AWQ_REVERSE_ORDER[o & 7]!)) & 0xf;
  }
  const sd = t.scales.data as Uint16Array;
  return build(q, n, k, G, dtype, (g, o) => sd[g * n + o]!, (g, o) => (t.qzeros[g * w + (o >> 3)]! >>> (4 * AWQ_REVERSE_ORDER[o & 7]!)) & 0xf);
}

/**
 * llm-awq v1 = AutoAWQ GEMV (§0): qweight [N, K/8] int32, nibble j of word c is input 8c + j;
 * qzeros [N, Gp/8] int32, nibble j of word c is group 8c + j; scales [N, Gp]; Gp = 8·ceil(K/G/8),
 * the padding groups ignored. W[o][i] = (q − z)·scales[o][i/G].
 */
export function fromAwqGemv(
  t: { qweight: Int32Array; qzeros: Int32Array; scales: AwqScales },
  n: number,
  k: number,
  G: number,
  where = 'fromAwqGemv',
): Q4Tensor {
  checkDims(n, k, G, where);
  const gp = paddedGroups(k, G);
  const kw = k / 8;
  checkLen('qweight', t.qweight.length, [n, kw], where);
  checkLen('qzeros', t.qzeros.length, [n, gp / 8], where);
  checkLen('scales', t.scales.data.length, [n, gp], where);
  const dtype = scaleDtype(t.scales, where);
  const q = new Uint8Array(n * k);
  for (let o = 0; o < n; o++) {
    for (let i = 0; i < k; i++) q[o * k + i] = (t.qweight[o * kw + (i >> 3)]! >>> (4 * (i & 7))) & 0xf;
  }
  const sd = t.scales.data as Uint16Array;
  return build(q, n, k, G, dtype, (g, o) => sd[o * gp + g]!, (g, o) => (t.qzeros[o * (gp / 8) + (g >> 3)]! >>> (4 * (g & 7))) & 0xf);
}

/**
 * AutoAWQ GEMVFast = llm-awq v2 with the zeros buffer named qzeros (float, already −s·z): the
 * internal layout as is. qweight (n/4, k) as int16 or its uint16 bits.
 */
export function fromGemvFast(
  t: { qweight: Int16Array | Uint16Array; qzeros: Tensor<Q4ScaleDType>; scales: Tensor<Q4ScaleDType> },
  n: number,
  k: number,
  G: number,
): Q4Tensor {
  const qw = t.qweight instanceof Int16Array ? new Uint16Array(t.qweight.buffer, t.qweight.byteOffset, t.qweight.length) : t.qweight;
  return { dtype: 'q4', shape: [n, k], groupSize: G, qweight: qw, scales: t.scales, scaledZeros: t.qzeros };
}
