// 16-bit float conversions: every f16 pattern round-trips, subnormals included, and the
// f32 → bf16/f16 rounding is round-to-nearest-even as torch does it.

import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/tensor.js';

describe('16-bit floats', () => {
  it('f16 → f32 → f16 is the identity on every non-NaN pattern', () => {
    for (let b = 0; b < 0x10000; b++) {
      const x = f16ToF32(b);
      if (Number.isNaN(x)) continue;
      expect(f32ToF16(x)).toBe(b);
    }
  });

  it('decodes f16 subnormals, zero signs and infinities', () => {
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
  });

  it('rounds to nearest even into f16 and bf16', () => {
    // 1 + 2^-11 is halfway between f16 1 and 1 + 2^-10: ties go to the even pattern (1).
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00);
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16(65520)).toBe(0x7c00); // overflows to infinity
    expect(f32ToF16(2 ** -25)).toBe(0); // half of the smallest subnormal: ties to even (0)
    expect(f32ToF16(3 * 2 ** -26)).toBe(1);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(bf16ToF32(f32ToBf16(-3.5))).toBe(-3.5);
  });
});
