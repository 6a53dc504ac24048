// The int4 TinyChat v2 weight type (spec/awq.md §1.1, §2): packing against the spec's test vector
// and a packer written from the spec's steps, dequantization bit-exact against hand-computed
// values and a rounding by table search, and the round-to-nearest quantizer's error bound.

import { describe, expect, it } from 'vitest';
import { InputError, WeightError } from '../../src/errors.js';
import {
  dequantizeQ4Row,
  packTinyChatV2,
  paddedGroups,
  q4At,
  quantizeRtn,
  randomQ4,
  roundHalfEven,
  validateQ4,
  type Q4ScaleDType,
  type Q4Tensor,
} from '../../src/quant/q4.js';
import { seededRandom } from '../../src/sampling.js';
import { bf16ToF32, f16ToF32, f32ToF16, floatReader, type Tensor } from '../../src/tensor.js';

/** §2.2 step by step: 32-runs as [4,4,2] with the first two axes swapped, 8-runs permuted by
 * [0,2,4,6,1,3,5,7], [N/4,4,K/64,64] → [N/4,K/64,4,64], each 256-block read as [64,4], packed. */
function packBySteps(q: Uint8Array, n: number, k: number): Uint16Array {
  const perm = [0, 2, 4, 6, 1, 3, 5, 7];
  const a = new Uint8Array(n * k);
  for (let o = 0; o < n; o++) {
    for (let base = 0; base < k; base += 32) {
      const t1: number[] = [];
      for (let x = 0; x < 4; x++) for (let y = 0; y < 4; y++) for (let z = 0; z < 2; z++) t1.push(q[o * k + base + y * 8 + x * 2 + z]!);
      for (let j = 0; j < 32; j++) a[o * k + base + j] = t1[(j & ~7) + perm[j & 7]!]!;
    }
  }
  const out = new Uint16Array((n / 4) * k);
  for (let rb = 0; rb < n / 4; rb++) {
    for (let kt = 0; kt < k / 64; kt++) {
      const block: number[] = [];
      for (let r = 0; r < 4; r++) for (let e = 0; e < 64; e++) block.push(a[(rb * 4 + r) * k + kt * 64 + e]!);
      for (let w = 0; w < 64; w++) {
        out[rb * k + kt * 64 + w] = block[w * 4]! | (block[w * 4 + 1]! << 4) | (block[w * 4 + 2]! << 8) | (block[w * 4 + 3]! << 12);
      }
    }
  }
  return out;
}

function tensorOf(values: number[] | Float32Array, shape: number[], dtype: Q4ScaleDType): Tensor<Q4ScaleDType> {
  if (dtype === 'f32') return { dtype, shape, data: Float32Array.from(values) };
  return { dtype, shape, data: Uint16Array.from(values, f32ToF16) };
}

/** A weight from explicit nibbles and per-(group, output) scale bits. */
function makeQ4(q: Uint8Array, n: number, k: number, groupSize: number, sBits: number[], szBits: number[]): Q4Tensor {
  const gp = paddedGroups(k, groupSize);
  const pad = (b: number[]): Uint16Array => Uint16Array.from({ length: gp * n }, (_, j) => b[j] ?? 0);
  return {
    dtype: 'q4', shape: [n, k], groupSize, qweight: packTinyChatV2(q, n, k),
    scales: { dtype: 'f16', shape: [gp, n], data: pad(sBits) },
    scaledZeros: { dtype: 'f16', shape: [gp, n], data: pad(szBits) },
  };
}

/** Nearest value of a 16-bit float format by binary search over all its finite values, ties to
 * the even bit pattern: a rounding that shares no code with src/quant/q4.ts. */
function tableRounder(decode: (bits: number) => number): (x: number) => number {
  const entries: [number, number][] = [];
  for (let b = 0; b < 0x10000; b++) {
    const v = decode(b);
    if (Number.isFinite(v) && !(v === 0 && b !== 0)) entries.push([v, b]);
  }
  entries.sort((p, q) => p[0] - q[0]);
  const vals = entries.map((e) => e[0]);
  return (x) => {
    let lo = 0;
    let hi = vals.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (vals[mid]! <= x) lo = mid;
      else hi = mid;
    }
    const dl = x - vals[lo]!;
    const dh = vals[hi]! - x;
    if (dl < dh) return vals[lo]!;
    if (dh < dl) return vals[hi]!;
    return (entries[lo]![1] & 1) === 0 ? vals[lo]! : vals[hi]!;
  };
}

function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

describe('TinyChat v2 packing (§2.2, §2.3)', () => {
  const n = 8;
  const k = 128;
  const q = Uint8Array.from({ length: n * k }, (_, j) => {
    const o = Math.floor(j / k);
    const i = j % k;
    return (7 * o + 3 * i + Math.floor(i / 8)) % 16;
  });

  it('packs the §2.4 test vector to the listed words', () => {
    const packed = packTinyChatV2(q, n, k);
    const hex = (from: number): string[] => Array.from(packed.subarray(from, from + 4), (v) => v.toString(16).padStart(4, '0'));
    expect(hex(0)).toEqual(['b290', 'e5c3', '18f6', '4b29']);
    expect(hex(16)).toEqual(['2907', '5c3a', '8f6d', 'b290']);
    expect(hex(k)).toEqual(['7e5c', 'a18f', 'd4b2', '07e5']);
    expect(packed).toEqual(packBySteps(q, n, k));
  });

  it('q4At reads back every q of the test vector', () => {
    const w = makeQ4(q, n, k, 128, [], []);
    for (let o = 0; o < n; o++) for (let i = 0; i < k; i++) expect(q4At(w, o, i)).toBe(q[o * k + i]);
  });

  it('round-trips random nibbles at n = 12, k = 192 and matches the step-by-step packer', () => {
    const rng = seededRandom(7);
    const r = Uint8Array.from({ length: 12 * 192 }, () => Math.floor(rng() * 16));
    const w = makeQ4(r, 12, 192, 64, [], []);
    expect(w.qweight).toEqual(packBySteps(r, 12, 192));
    let bad = 0;
    for (let o = 0; o < 12; o++) for (let i = 0; i < 192; i++) if (q4At(w, o, i) !== r[o * 192 + i]) bad++;
    expect(bad).toBe(0);
  });

  it('rejects sizes the layout cannot hold, naming the tensor', () => {
    expect(() => packTinyChatV2(new Uint8Array(6 * 64), 6, 64)).toThrow(InputError);
    expect(() => packTinyChatV2(new Uint8Array(4 * 96), 4, 96)).toThrow(/multiple of 64/);
    const w = randomQ4(seededRandom(1), 8, 256, 128);
    expect(() => validateQ4(w, 'layers.0.q_proj')).not.toThrow();
    expect(() => validateQ4({ ...w, groupSize: 96 }, 'layers.0.q_proj')).toThrow(WeightError);
    expect(() => validateQ4({ ...w, groupSize: 96 }, 'layers.0.q_proj')).toThrow(/layers\.0\.q_proj/);
    const badScales = { ...w.scales, shape: [2, 8] };
    expect(() => validateQ4({ ...w, scales: badScales }, 'layers.0.q_proj')).toThrow(/scales has shape \[2, 8\], expected \[8, 8\]/);
    expect(() => validateQ4({ ...w, qweight: new Uint16Array(10) }, 'x')).toThrow(/qweight/);
    expect(() => randomQ4(seededRandom(1), 8, 256, 96)).toThrow(InputError);
  });
});

describe('dequantization (§2.4)', () => {
  it('matches hand-computed fp16 roundings of q·s + sz', () => {
    // One output row block (n = 4), k = 64, one group; row 0 carries the cases.
    const cases: [q: number, sBits: number, szBits: number, expected: number][] = [
      [15, 0x3c01, 0x0000, 15.015625], // 15·(1+2⁻¹⁰) = 15.0146484375 → 1921.875 ulps of 2⁻⁷ → 1922
      [3, 0x3c01, 0x0000, 3.00390625], // 3.0029296875 = 1537.5 ulps of 2⁻⁹: tie, to even 1538
      [5, 0x3c01, 0x0000, 5.00390625], // 5.0048828125 = 1281.25 ulps of 2⁻⁸ → 1281
      [1, 0x1000, 0x3c00, 1], // 1 + 2⁻¹¹: tie between 1 and 1+2⁻¹⁰, to even (down)
      [3, 0x1000, 0x3c00, 1 + 2 ** -9], // 1 + 3·2⁻¹¹: tie, to even (up)
      [0, 0x2000, 0xa400, -0.015625], // q = 0 gives sz itself (−2⁻⁶)
      [7, 0x2000, 0xa400, 0.0390625], // 7·2⁻⁷ − 2⁻⁶ = 0.0390625 exactly
    ];
    for (const [q, s, sz, expected] of cases) {
      const nib = new Uint8Array(4 * 64);
      nib[0] = q;
      const w = makeQ4(nib, 4, 64, 64, [s], [sz]);
      const row = new Float32Array(64);
      dequantizeQ4Row(w, 0, row);
      expect(row[0]).toBe(expected);
    }
  });

  for (const dtype of ['f16', 'bf16'] as const) {
    it(`equals the nearest ${dtype} of the exact q·s + sz for every weight (table search)`, () => {
      const rng = seededRandom(dtype === 'f16' ? 11 : 12);
      const [n, k, G] = [16, 256, 64];
      const decode = dtype === 'f16' ? f16ToF32 : bf16ToF32;
      const nearest = tableRounder(decode);
      const q = Uint8Array.from({ length: n * k }, () => Math.floor(rng() * 16));
      const gp = paddedGroups(k, G);
      // Random bit patterns for s (positive, wide exponent range) and sz of either sign.
      const sBits = Array.from({ length: gp * n }, () => (dtype === 'f16' ? 0x0800 + Math.floor(rng() * 0x3000) : 0x3800 + Math.floor(rng() * 0x0c00)));
      const szBits = Array.from({ length: gp * n }, () => (dtype === 'f16' ? Math.floor(rng() * 0x4800) : 0x3800 + Math.floor(rng() * 0x0c00)) | (rng() < 0.7 ? 0x8000 : 0));
      const w: Q4Tensor = {
        dtype: 'q4', shape: [n, k], groupSize: G, qweight: packTinyChatV2(q, n, k),
        scales: { dtype, shape: [gp, n], data: Uint16Array.from(sBits) },
        scaledZeros: { dtype, shape: [gp, n], data: Uint16Array.from(szBits) },
      };
      const row = new Float32Array(k);
      let bad = 0;
      for (let o = 0; o < n; o++) {
        dequantizeQ4Row(w, o, row);
        for (let i = 0; i < k; i++) {
          const g = Math.floor(i / G);
          const exact = q[o * k + i]! * decode(sBits[g * n + o]!) + decode(szBits[g * n + o]!);
          if (row[i] !== nearest(exact)) bad++;
        }
      }
      expect(bad).toBe(0);
    });
  }

  it('rounds to f32 for f32 scales', () => {
    const q = Uint8Array.from({ length: 4 * 64 }, (_, j) => j % 16);
    const s = Math.fround(0.1);
    const sz = Math.fround(-0.35);
    const w: Q4Tensor = {
      dtype: 'q4', shape: [4, 64], groupSize: 64, qweight: packTinyChatV2(q, 4, 64),
      scales: tensorOf(new Float32Array(32).fill(s), [8, 4], 'f32'),
      scaledZeros: tensorOf(new Float32Array(32).fill(sz), [8, 4], 'f32'),
    };
    const row = new Float32Array(64);
    dequantizeQ4Row(w, 2, row);
    for (let i = 0; i < 64; i++) expect(row[i]).toBe(Math.fround(q[2 * 64 + i]! * s + sz));
  });
});

describe('quantizeRtn (§1.1)', () => {
  for (const [dtype, G] of [['f32', 128], ['f16', 64], ['bf16', 128]] as const) {
    it(`stays within half a step of every weight in range (${dtype} scales, group ${G})`, () => {
      const rng = seededRandom(G + dtype.length);
      const [n, k] = [16, 256];
      const data = Float32Array.from({ length: n * k }, () => 0.02 * gaussian(rng) + (rng() < 0.1 ? 0.05 : 0));
      const wq = quantizeRtn({ dtype: 'f32', shape: [n, k], data }, G, dtype);
      validateQ4(wq, 'rtn');
      expect(wq.scales.dtype).toBe(dtype);
      const s = floatReader(wq.scales);
      const sz = floatReader(wq.scaledZeros);
      // Rounding of the stored values: sz = −(s·z) and the dequantized weight are each rounded
      // once to the scale dtype (2⁻¹¹ relative for f16, 2⁻⁸ for bf16, 2⁻²⁴ for f32).
      const rel = dtype === 'f16' ? 2 ** -11 : dtype === 'bf16' ? 2 ** -8 : 2 ** -24;
      const row = new Float32Array(k);
      let inRange = 0;
      for (let o = 0; o < n; o++) {
        dequantizeQ4Row(wq, o, row);
        for (let g = 0; g < k / G; g++) {
          const sg = s(g * n + o);
          const z = Math.round(-sz(g * n + o) / sg);
          expect(z).toBeGreaterThanOrEqual(0);
          expect(z).toBeLessThanOrEqual(15);
          expect(Math.abs(-sz(g * n + o) / sg - z)).toBeLessThanOrEqual(15 * rel * 1.01);
          for (let i = g * G; i < (g + 1) * G; i++) {
            const v = data[o * k + i]!;
            const unclamped = roundHalfEven(Math.fround(v / sg)) + z;
            expect(q4At(wq, o, i)).toBe(Math.min(15, Math.max(0, unclamped)));
            if (unclamped < 0 || unclamped > 15) continue;
            inRange++;
            const bound = (sg / 2) * (1 + 1e-3) + rel * 15 * sg + rel * Math.abs(row[i]!);
            expect(Math.abs(v - row[i]!)).toBeLessThanOrEqual(bound);
          }
        }
      }
      expect(inRange).toBeGreaterThan(0.99 * n * k);
    });
  }

  it('keeps the whole group to within s/2 with f32 scales (no further rounding)', () => {
    const rng = seededRandom(5);
    const data = Float32Array.from({ length: 8 * 128 }, () => gaussian(rng));
    const wq = quantizeRtn({ dtype: 'f32', shape: [8, 128], data }, 128, 'f32');
    const row = new Float32Array(128);
    const s = floatReader(wq.scales);
    let worst = 0;
    for (let o = 0; o < 8; o++) {
      dequantizeQ4Row(wq, o, row);
      for (let i = 0; i < 128; i++) worst = Math.max(worst, Math.abs(data[o * 128 + i]! - row[i]!) / s(o));
    }
    expect(worst).toBeLessThanOrEqual(0.5 * (1 + 1e-3));
    // Padding rows of the scale tables are zero: 1 real group, 8 rows.
    expect(wq.scales.shape).toEqual([8, 8]);
    expect(Array.from((wq.scales.data as Float32Array).subarray(8))).toEqual(new Array(56).fill(0));
  });

  it('rejects weights the layout cannot hold', () => {
    const t = (n: number, k: number): Tensor => ({ dtype: 'f32', shape: [n, k], data: new Float32Array(n * k) });
    expect(() => quantizeRtn(t(6, 128), 128)).toThrow(InputError);
    expect(() => quantizeRtn(t(8, 96), 32)).toThrow(/multiple of 64/);
    expect(() => quantizeRtn(t(8, 192), 128)).toThrow(/group size 128 does not divide k = 192/);
  });
});

describe('paddedGroups (llm-awq calculate_zeros_width · 8)', () => {
  it('pads G = 128 to 8 rows, G = 64 to 16, G = 32 to 32, as qmodule.py allocates', () => {
    const cases: [number, number, number][] = [
      [2560, 128, 24], [6912, 128, 56], [4096, 128, 32], [11008, 128, 88], [1152, 256, 8],
      [192, 64, 16], [512, 64, 16], [320, 64, 16], [2048, 64, 32], [2560, 64, 48],
      [1024, 32, 32], [4096, 32, 128],
    ];
    for (const [k, G, rows] of cases) expect(paddedGroups(k, G), `k=${k} G=${G}`).toBe(rows);
  });
});
