// Pools the reports of a benchmark run (several passes, one process per thread count) into one
// figure per (case or shape, thread count): the median over passes, as peers/summarize.py does.

import { median } from '../src/bench/machine.js';
import type { ModelReport } from '../src/bench/model.js';
import type { OpsReport } from '../src/bench/ops.js';

export type Report = OpsReport | ModelReport;

export interface OpSummary {
  name: string;
  op: string;
  /** Activation rows (1 = decode-shaped), null when the case has no x. */
  rows: number | null;
  native: boolean;
  /** Some run streamed faster than memory allows (see OpCaseResult.suspect). */
  suspect: boolean;
  /** Timed over rotated weight copies (decode-shaped, from DRAM): judged against the read ceiling, else the fma one. */
  decode: boolean;
  byThreads: Record<number, { ms: number; gflops: number; gbs: number; frac: number }>;
}

export interface ModelSummary {
  shape: string;
  backend: string;
  promptTokens: number;
  imageSize: number | null;
  byThreads: Record<number, { image_s: number | null; prefill_tok_s: number; decode_tok_s: number; peak_rss_mb: number; build_s: number }>;
}

export interface Summary {
  ceilings: Record<number, { fma_gflops: number; read_gbs: number }>;
  ops: OpSummary[];
  models: ModelSummary[];
}

const med = (xs: number[]): number => median(xs);
const medOrNull = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : median(v);
};

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

export function summarize(reports: Report[]): Summary {
  const ops = reports.filter((r): r is OpsReport => r.bench === 'ops');
  const models = reports.filter((r): r is ModelReport => r.bench === 'model');
  // Ceilings: the figure for t threads from every process that measured it (a 2-thread process measures 1 and 2).
  const ceilings: Summary['ceilings'] = {};
  for (const [t, cs] of groupBy(ops.flatMap((r) => r.ceilings.filter((c) => c.threads === r.threads)), (c) => String(c.threads))) {
    ceilings[Number(t)] = { fma_gflops: med(cs.map((c) => c.fma_gflops)), read_gbs: med(cs.map((c) => c.read_gbs)) };
  }
  const opRows = ops.flatMap((r) => r.cases.map((c) => ({ ...c, threads: r.threads })));
  const opSummaries: OpSummary[] = [...groupBy(opRows, (c) => c.name)].map(([name, rows]) => {
    // Timed from DRAM (rotated weight copies): judged against the read ceiling.
    const decode = rows.some((r) => r.copies > 1);
    const byThreads: OpSummary['byThreads'] = {};
    for (const [t, rs] of groupBy(rows, (r) => String(r.threads))) {
      byThreads[Number(t)] = {
        ms: med(rs.map((r) => r.ms)), gflops: med(rs.map((r) => r.gflops)), gbs: med(rs.map((r) => r.gbs)),
        frac: med(rs.map((r) => (decode ? r.read_frac : r.fma_frac))),
      };
    }
    return { name, op: rows[0]!.op, rows: rows[0]!.rows, native: rows.every((r) => r.native), suspect: rows.some((r) => r.suspect), decode, byThreads };
  });
  const modelSummaries: ModelSummary[] = [...groupBy(models, (m) => `${m.shape}|${m.backend}`)].map(([, ms]) => {
    const byThreads: ModelSummary['byThreads'] = {};
    for (const [t, rs] of groupBy(ms, (r) => String(r.threads))) {
      byThreads[Number(t)] = {
        image_s: medOrNull(rs.map((r) => r.image_s)), prefill_tok_s: med(rs.map((r) => r.prefill_tok_s)),
        decode_tok_s: med(rs.map((r) => r.decode_tok_s)), peak_rss_mb: med(rs.map((r) => r.peak_rss_mb)),
        build_s: med(rs.map((r) => r.llm_build_s + r.vision_build_s)),
      };
    }
    return { shape: ms[0]!.shape, backend: ms[0]!.backend, promptTokens: ms[0]!.prompt_tokens, imageSize: ms[0]!.image_size, byThreads };
  });
  return { ceilings, ops: opSummaries, models: modelSummaries };
}

const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

/** Markdown tables of a summary (what the README's Benchmarks section shows). */
export function markdown(s: Summary, threads: number[]): string {
  const head = (cols: string[]): string[] => [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`];
  const out: string[] = [];
  if (s.ops.length > 0) out.push(...opTables(s, threads, head), '');
  out.push(...head(['Model', 'threads', 'image s', 'prefill tok/s', 'decode tok/s', 'peak RSS MB', 'build s']));
  for (const m of s.models) {
    for (const t of threads) {
      const b = m.byThreads[t];
      if (b === undefined) continue;
      out.push(`| ${m.shape} (${m.backend}) | ${t} | ${f(b.image_s, 2)} | ${f(b.prefill_tok_s, 2)} | ${f(b.decode_tok_s, 2)} | ${f(b.peak_rss_mb, 0)} | ${f(b.build_s, 1)} |`);
    }
  }
  return out.join('\n');
}

function opTables(s: Summary, threads: number[], head: (cols: string[]) => string[]): string[] {
  const out: string[] = [];
  out.push(...head(['Ceiling (same run)', ...threads.map((t) => `${t} thread${t > 1 ? 's' : ''}`)]));
  out.push(`| f32x4 mul+add, GFLOP/s | ${threads.map((t) => f(s.ceilings[t]?.fma_gflops)).join(' | ')} |`);
  out.push(`| streaming read, GB/s | ${threads.map((t) => f(s.ceilings[t]?.read_gbs)).join(' | ')} |`);
  out.push('');
  out.push(...head(['Op case', ...threads.map((t) => `${t}T ms`), ...threads.map((t) => `${t}T figure (of ceiling)`)]));
  for (const o of s.ops) {
    const fig = (t: number): string => {
      const b = o.byThreads[t];
      if (b === undefined) return '–';
      return o.decode ? `${f(b.gbs)} GB/s (${f(100 * b.frac, 0)}%)` : `${f(b.gflops)} GFLOP/s (${f(100 * b.frac, 0)}%)`;
    };
    out.push(`| ${o.name}${o.native ? '' : ' †'}${o.suspect ? ' ‡' : ''} | ${threads.map((t) => f(o.byThreads[t]?.ms, 3)).join(' | ')} | ${threads.map(fig).join(' | ')} |`);
  }
  out.push('', '† no wasm kernel yet: the reference stood in. ‡ faster than memory allows: the kernel did not do the work.');
  return out;
}
