// Printing float32 values as the shortest decimal that reads back to the same float32 (what
// numpy prints for float32), so JSON output is compact and exact.

export function shortestF32(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  const f = Math.fround(x);
  for (let p = 1; p < 10; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

/** A JSON array of float32 values, each printed shortest (non-finite values become null, as JSON must). */
export function f32ArrayJson(values: ArrayLike<number>): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    parts.push(Number.isFinite(v) ? shortestF32(v) : 'null');
  }
  return `[${parts.join(',')}]`;
}
