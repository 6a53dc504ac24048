// One timing method for every figure (ops and ceilings alike): tinybench, synchronous tasks, a
// warm-up that is not counted, then samples until both a time budget and a minimum count are
// met; the median is what we report (the host is shared and noisy: means drift with neighbours).

import { Bench } from 'tinybench';

export interface TimingOptions {
  /** Time budget per task in ms (tinybench keeps sampling until both this and `minSamples` are met). */
  timeMs: number;
  minSamples: number;
  /** Untimed calls first: JIT, and weights uploaded to wasm memory on their first use. */
  warmup: number;
}

export interface Timing {
  /** Median of the samples, ms. */
  ms: number;
  minMs: number;
  maxMs: number;
  samples: number;
}

export function timeSync(name: string, fn: () => void, o: TimingOptions): Timing {
  const bench = new Bench({
    name,
    time: o.timeMs,
    iterations: o.minSamples,
    warmup: o.warmup > 0,
    warmupIterations: Math.max(1, o.warmup),
    warmupTime: 0,
    throws: true,
  });
  bench.add(name, fn, { async: false });
  const [task] = bench.runSync();
  const r = task?.result;
  if (r === undefined || !('latency' in r)) throw new Error(`tinybench gave no statistics for '${name}' (state ${r?.state ?? 'none'})`);
  return { ms: r.latency.p50, minMs: r.latency.min, maxMs: r.latency.max, samples: r.latency.samplesCount };
}
