// Error measures used wherever two arrays of numbers are compared: goldens, traces, backends.

export interface Difference {
  /** ‖got − ref‖ / ‖ref‖ (0 when both are all zero, Infinity when only ref is). */
  readonly relL2: number;
  readonly maxAbs: number;
}

export function difference(ref: ArrayLike<number>, got: ArrayLike<number>): Difference {
  if (ref.length !== got.length) return { relL2: Infinity, maxAbs: Infinity };
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = got[i]! - ref[i]!;
    num += e * e;
    den += ref[i]! * ref[i]!;
    const a = Math.abs(e);
    if (!(a <= maxAbs)) maxAbs = a; // NaN propagates
  }
  const relL2 = den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
  return { relL2, maxAbs };
}

/** ‖got − ref‖ / ‖ref‖ */
export const relL2 = (ref: ArrayLike<number>, got: ArrayLike<number>): number => difference(ref, got).relL2;
