// `vila bench ops`: every cross-backend op case (src/opcheck/cases.ts ALL_CASES, the same data the
// correctness tests run) timed on the WebAssembly backend, as GFLOP/s and GB/s next to the
// ceilings measured in the same run.
//
// Decode-shaped cases (one activation row) read each weight once per call, so they are bound by
// memory bandwidth; a single weight of a few MiB timed over and over would sit in the 32 MiB L3
// and report the cache's speed. Like the peers (onnxruntime's 8 chained layers, peers.md), such
// cases rotate through ≥ 4 distinct copies of their inputs, together more than twice the L3.

import { readFileSync } from 'node:fs';
import { allocate, run, type Backend, type OpArgs, type OpName } from '../backend.js';
import { InputError } from '../errors.js';
import { ALL_CASES } from '../opcheck/cases.js';
import type { OpCase } from '../opcheck/harness.js';
import { seededRandom } from '../sampling.js';
import type { F32Tensor } from '../tensor.js';
import { createWasmBackend, type WasmBackend } from '../wasm/backend.js';
import type { WasmFlavor } from '../wasm/module.js';
import { measureCeilings, type Ceiling } from './ceilings.js';
import { kernelBuild, machineInfo, type MachineInfo } from './machine.js';
import { timeSync } from './timing.js';

export interface OpsBenchOptions {
  threads: number;
  flavor?: WasmFlavor;
  /** Only cases whose name contains this text (case-insensitive). */
  filter?: string;
  /** Time budget per case, ms (default 1000). */
  timeMs?: number;
  /** Skip cases that would run on the reference stand-in (no wasm kernel yet). */
  nativeOnly?: boolean;
  /** Called before each case (and with name 'ceilings' before those). */
  onCase?: (name: string, index: number, total: number) => void;
}

export interface OpCaseResult {
  name: string;
  op: OpName;
  /** false: no wasm kernel for these arguments yet, the reference kernel stood in. */
  native: boolean;
  /** Activation rows (1 = decode-shaped). */
  rows: number | null;
  /** Distinct input copies rotated through (> 1 for decode-shaped cases). */
  copies: number;
  /** Median time per call, ms. */
  ms: number;
  min_ms: number;
  max_ms: number;
  samples: number;
  gflops: number;
  gbs: number;
  /** gflops / the fma ceiling at this thread count. */
  fma_frac: number;
  /** gbs / the read ceiling at this thread count. */
  read_frac: number;
  /**
   * A rotated (DRAM-bound) case that streamed faster than 1.5× the read ceiling: its weights cannot
   * have been read, so the kernel did not do the work (e.g. dist/ out of step with the wasm build).
   */
  suspect: boolean;
}

export interface OpsReport extends MachineInfo {
  bench: 'ops';
  backend: 'wasm';
  flavor: WasmFlavor;
  threads: number;
  /** SHA-256 prefix of the kernel build measured. */
  kernels: string | undefined;
  l3_bytes: number;
  ceilings: Ceiling[];
  cases: OpCaseResult[];
}

/** The last-level cache size from sysfs (32 MiB on the project machine when unreadable). */
export function l3Bytes(): number {
  try {
    const s = readFileSync('/sys/devices/system/cpu/cpu0/cache/index3/size', 'utf8').trim();
    const m = /^(\d+)([KMG]?)$/.exec(s);
    if (m !== null) return Number(m[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2] as '' | 'K' | 'M' | 'G'];
  } catch {
    // no sysfs (not Linux, or a sandbox): fall through
  }
  return 32 * 1024 ** 2;
}

/** Rows of the case's activation `x`, when it has one. */
function rowsOf(args: unknown): number | null {
  const x = (args as { x?: F32Tensor }).x;
  return x !== undefined && Array.isArray(x.shape) && x.shape.length === 2 ? x.shape[0]! : null;
}

export function selectCases(filter: string | undefined): OpCase[] {
  const f = filter?.toLowerCase();
  const cases = f === undefined ? ALL_CASES : ALL_CASES.filter((c) => c.name.toLowerCase().includes(f));
  if (cases.length === 0) throw new InputError(`no op case matches --filter '${filter}' (cases: ${ALL_CASES.map((c) => c.name).join('; ')})`);
  return cases;
}

function benchCase(be: WasmBackend, c: OpCase, seed: number, timeMs: number, l3: number, ceiling: Ceiling): OpCaseResult {
  const alloc = (shape: readonly number[]): F32Tensor => allocate(be, shape);
  const first = c.make(seededRandom(seed), alloc);
  const native = be.native(c.op, first as OpArgs[typeof c.op]);
  const rows = rowsOf(first);
  // Only weight-reading ops stream a large operand per call; a one-row activation op has nothing to rotate.
  const decode = rows === 1 && native && 'w' in (first as object);
  const copies = decode ? Math.min(256, Math.max(4, Math.ceil((2 * l3) / c.bytes))) : 1;
  const inputs = [first];
  for (let j = 1; j < copies; j++) inputs.push(c.make(seededRandom(seed + j), alloc));
  let i = 0;
  const t = timeSync(
    c.name,
    () => run(be as Backend, c.op, c.name, inputs[i++ % copies] as never),
    // Every copy is used once before timing: its weights are uploaded to wasm memory on first use.
    native ? { timeMs, minSamples: Math.max(10, 2 * copies), warmup: copies + 1 } : { timeMs: 0, minSamples: 3, warmup: 1 },
  );
  const gflops = c.flops / t.ms / 1e6;
  const gbs = c.bytes / t.ms / 1e6;
  return {
    name: c.name, op: c.op, native, rows, copies, ms: t.ms, min_ms: t.minMs, max_ms: t.maxMs, samples: t.samples,
    gflops, gbs, fma_frac: gflops / ceiling.fma_gflops, read_frac: gbs / ceiling.read_gbs,
    suspect: copies > 1 && gbs > 1.5 * ceiling.read_gbs,
  };
}

export function runOpsBench(o: OpsBenchOptions): OpsReport {
  const cases = selectCases(o.filter);
  const machine = machineInfo();
  const be = createWasmBackend({ threads: o.threads, ...(o.flavor === undefined ? {} : { flavor: o.flavor }) });
  try {
    const timeMs = o.timeMs ?? 1000;
    o.onCase?.('ceilings', 0, cases.length);
    const ceilings = measureCeilings(be, { timeMs: Math.min(timeMs, 500), minSamples: 8, warmup: 2 });
    const mine = ceilings.find((c) => c.threads === be.threads) ?? ceilings[ceilings.length - 1]!;
    const l3 = l3Bytes();
    const results: OpCaseResult[] = [];
    cases.forEach((c, i) => {
      if (o.nativeOnly === true) {
        const probe = c.make(seededRandom(1), (s) => allocate(be, s));
        if (!be.native(c.op, probe as never)) return;
      }
      o.onCase?.(c.name, i, cases.length);
      results.push(benchCase(be, c, 1000 + i, timeMs, l3, mine));
    });
    return { bench: 'ops', backend: 'wasm', flavor: be.flavor, threads: be.threads, kernels: kernelBuild(be.flavor), l3_bytes: l3, ...machine, ceilings, cases: results };
  } finally {
    be.close();
  }
}
