// Plain-text tables of the bench reports (what `vila bench` prints without --json).

import type { ModelReport } from './model.js';
import type { OpsReport } from './ops.js';

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const fix = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pct = (x: number): string => `${fix(100 * x, 0)}%`;

export function formatOps(r: OpsReport): string {
  const lines = [
    `wasm ${r.flavor}, ${r.threads} thread(s), kernels ${r.kernels ?? 'unbuilt'}; ${r.cpu}, node ${r.node}, load ${r.loadavg.join(' ')}`,
    `ceilings (this run): ${r.ceilings.map((c) => `${c.threads} thread(s): ${fix(c.fma_gflops, 1)} GFLOP/s f32x4 mul+add, ${fix(c.read_gbs, 1)} GB/s read`).join('; ')}`,
    '',
    `${pad('case', 54)} ${lpad('ms', 9)} ${lpad('GFLOP/s', 8)} ${lpad('%fma', 5)} ${lpad('GB/s', 7)} ${lpad('%read', 6)}  copies`,
  ];
  for (const c of r.cases) {
    lines.push(
      `${pad(c.name, 54)} ${lpad(fix(c.ms, 3), 9)} ${lpad(fix(c.gflops, 1), 8)} ${lpad(pct(c.fma_frac), 5)} ${lpad(fix(c.gbs, 1), 7)} ${lpad(pct(c.read_frac), 6)}  ${c.copies}${c.native ? '' : '  (reference stand-in: no wasm kernel yet)'}${c.suspect ? '  (faster than memory allows: did the kernel run?)' : ''}`,
    );
  }
  return lines.join('\n');
}

export function formatModel(r: ModelReport): string {
  const s = (x: number | null, unit: string, d = 2): string => (x === null ? '-' : `${fix(x, d)} ${unit}`);
  return [
    `${r.shape} on ${r.backend}${r.flavor === null ? '' : ` ${r.flavor}`}, ${r.threads} thread(s), kernels ${r.kernels ?? '-'}; ${r.cpu}, node ${r.node}, load ${r.loadavg.join(' ')}`,
    `  parameters        ${fix(r.params / 1e9, 3)} B (built in ${fix(r.llm_build_s, 1)} s LLM + ${fix(r.vision_build_s, 1)} s vision)`,
    `  image             ${s(r.image_s, 's')}${r.image_tokens === null ? '' : ` → ${r.image_tokens} tokens`}${r.image_first_s === null ? '' : ` (first, with upload: ${fix(r.image_first_s, 2)} s)`}`,
    `  prefill           ${fix(r.prefill_tok_s, 2)} tok/s (${r.prompt_tokens} tokens in ${fix(r.prefill_s, 2)} s)`,
    `  decode            ${fix(r.decode_tok_s, 2)} tok/s (median of ${r.decode_tokens} steps)`,
    `  peak RSS          ${r.peak_rss_mb} MB`,
  ].join('\n');
}
