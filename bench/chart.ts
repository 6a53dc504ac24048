// The benchmark chart as hand-written SVG (no plotting dependency): groups of horizontal bars,
// each group scaled to its own largest value, coloured by who measured it: ours, the ceiling
// measured in the same run, or a peer runtime from peers.md. Every bar carries its number, so
// a bar too short to see still reads.

import { PEERS } from './peers_figures.js';
import type { Summary } from './summary.js';

export type BarKind = 'ours' | 'ceiling' | 'peer';

export interface ChartBar {
  label: string;
  /** null: not measured (drawn as text only). */
  value: number | null;
  text: string;
  kind: BarKind;
}

export interface ChartGroup {
  title: string;
  bars: ChartBar[];
}

const COLOURS: Record<BarKind, string> = { ours: '#2f6fb3', ceiling: '#9aa3ad', peer: '#e08a2c' };
const LEGEND: Record<BarKind, string> = { ours: 'vila-ts (wasm)', ceiling: 'ceiling, same run', peer: `peer runtime (peers.md, on ${PEERS.cpu})` };

const W = 1000;
const LABEL_W = 430;
const BAR_W = 360;
const ROW = 18;
const GROUP_GAP = 14;

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderSvg(title: string, subtitle: string, groups: ChartGroup[]): string {
  const parts: string[] = [];
  let y = 58;
  // Legend: the kinds of bar the chart holds
  let lx = 12;
  const present = new Set(groups.flatMap((g) => g.bars.map((b) => b.kind)));
  for (const k of (Object.keys(LEGEND) as BarKind[]).filter((kind) => present.has(kind))) {
    parts.push(`<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${COLOURS[k]}"/>`);
    parts.push(`<text x="${lx + 16}" y="${y}" class="small">${escapeXml(LEGEND[k])}</text>`);
    lx += 30 + LEGEND[k].length * 6.5;
  }
  y += 16;
  for (const g of groups) {
    y += GROUP_GAP;
    parts.push(`<text x="12" y="${y + 12}" class="group">${escapeXml(g.title)}</text>`);
    y += ROW + 4;
    const max = Math.max(0, ...g.bars.map((b) => b.value ?? 0));
    for (const b of g.bars) {
      parts.push(`<text x="${LABEL_W - 8}" y="${y + 13}" text-anchor="end" class="label">${escapeXml(b.label)}</text>`);
      const w = b.value === null || max <= 0 ? 0 : Math.max(1, (BAR_W * b.value) / max);
      if (b.value !== null) parts.push(`<rect x="${LABEL_W}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 5}" fill="${COLOURS[b.kind]}"/>`);
      parts.push(`<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + 13}" class="value">${escapeXml(b.text)}</text>`);
      y += ROW;
    }
  }
  const h = y + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:16px;font-weight:bold}.group{font-size:13px;font-weight:bold}.label,.value{font-size:11px}.small{font-size:11px;fill:#444}</style>',
    `<rect width="${W}" height="${h}" fill="#ffffff"/>`,
    `<text x="12" y="22" class="title">${escapeXml(title)}</text>`,
    `<text x="12" y="40" class="small">${escapeXml(subtitle)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

const fx = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '–');
const T = [1, 2] as const;

/** The chart's groups from a run's summary, with the peers' figures beside ours. */
export function chartGroups(s: Summary): ChartGroup[] {
  const groups: ChartGroup[] = [];
  const ceil: ChartBar[] = [];
  for (const t of T) {
    const c = s.ceilings[t];
    ceil.push({ label: `wasm f32x4 mul+add, ${t}T (same run)`, value: c?.fma_gflops ?? null, text: c ? `${fx(c.fma_gflops)} GFLOP/s` : 'not measured', kind: 'ceiling' });
    ceil.push({ label: `C 128-bit mul+add, ${t}T (membench)`, value: PEERS.fma128Gflops[t], text: `${PEERS.fma128Gflops[t]} GFLOP/s`, kind: 'peer' });
  }
  groups.push({ title: 'Compute ceiling, GFLOP/s', bars: ceil });
  const read: ChartBar[] = [];
  for (const t of T) {
    const c = s.ceilings[t];
    read.push({ label: `wasm streaming read, ${t}T (same run)`, value: c?.read_gbs ?? null, text: c ? `${fx(c.read_gbs)} GB/s` : 'not measured', kind: 'ceiling' });
    read.push({ label: `C 128-bit read, ${t}T (membench)`, value: PEERS.readGbs[t], text: `${PEERS.readGbs[t]} GB/s`, kind: 'peer' });
  }
  groups.push({ title: 'Memory read ceiling, GB/s', bars: read });
  const ops: ChartBar[] = [];
  // The heavy ops at real shapes only (the tables in the README and the JSON have every case).
  for (const o of s.ops.filter((x) => /^(matmul|matmul_q4|attention)$/.test(x.op) && !/ragged|empty/.test(x.name))) {
    for (const t of T) {
      const b = o.byThreads[t];
      if (b === undefined) continue;
      const fig = o.decode ? `${fx(b.gbs)} GB/s` : `${fx(b.gflops)} GFLOP/s`;
      ops.push({ label: `${o.name.replace(/^matmul_q4 /, 'int4 ').replace(/^matmul /, '')}, ${t}T${o.native ? '' : ' †'}`, value: 100 * b.frac, text: `${fx(100 * b.frac, 0)}% (${fig})`, kind: 'ours' });
    }
  }
  if (ops.length > 0) groups.push({ title: 'Matmul and attention kernels at model shapes: % of the same-run ceiling (decode: read; others: mul+add)', bars: ops });
  groups.push(...int4Groups(s));
  for (const m of s.models) {
    const peers = m.shape === 'llama-ref';
    for (const [metric, key] of [['decode', 'decode_tok_s'], ['prefill', 'prefill_tok_s']] as const) {
      const bars: ChartBar[] = [];
      for (const t of T) {
        const b = m.byThreads[t];
        if (b !== undefined) bars.push({ label: `vila-ts ${m.backend}, ${t}T`, value: b[key], text: `${fx(b[key], 2)} tok/s`, kind: 'ours' });
        // llama.cpp's prefill figure is for a 128-token prompt: only comparable at the same length.
        if (peers && (metric === 'decode' || m.promptTokens === 128)) {
          for (const [name, p] of Object.entries(PEERS.llamaCpp)) bars.push({ label: `${name}, ${t}T`, value: p[metric][t], text: `${p[metric][t]} tok/s`, kind: 'peer' });
        }
      }
      const what = metric === 'decode' ? 'decode' : `prefill (${m.promptTokens}-token prompt)`;
      groups.push({ title: `${m.shape}: ${what}, tokens/s`, bars });
    }
    const img = T.flatMap((t) => {
      const b = m.byThreads[t];
      return b === undefined || b.image_s === null ? [] : [{ label: `vila-ts ${m.backend}, ${t}T`, value: 1 / b.image_s, text: `${fx(1 / b.image_s, 3)} images/s (${fx(b.image_s, 2)} s each)`, kind: 'ours' as const }];
    });
    if (img.length > 0) groups.push({ title: `${m.shape}: images encoded per second (${m.imageSize}×${m.imageSize}, tower + projector)`, bars: img });
  }
  return groups;
}

/** int4 cases at the peers' shape (K = N = 4096, group 128), set beside onnxruntime's MatMulNBits. */
function int4Groups(s: Summary): ChartGroup[] {
  const at = (rows: number) => s.ops.find((o) => o.op === 'matmul_q4' && o.rows === rows && /k=4096 n=4096\b/.test(o.name));
  const groups: ChartGroup[] = [];
  const gemv = at(1);
  if (gemv !== undefined) {
    const bars: ChartBar[] = [];
    for (const t of T) {
      const b = gemv.byThreads[t];
      if (b !== undefined) bars.push({ label: `vila-ts wasm, ${t}T`, value: 1000 / b.ms, text: `${fx(1000 / b.ms, 0)} /s (${fx(b.ms, 3)} ms)`, kind: 'ours' });
      for (const [name, p] of Object.entries(PEERS.gemvQ4Ms)) bars.push({ label: `${name}, ${t}T`, value: 1000 / p[t], text: `${fx(1000 / p[t], 0)} /s (${p[t]} ms)`, kind: 'peer' });
    }
    groups.push({ title: 'int4 GEMV M=1, K=N=4096, weights from DRAM: layers per second', bars });
  }
  const gemm = at(128);
  if (gemm !== undefined) {
    const bars: ChartBar[] = [];
    for (const t of T) {
      const b = gemm.byThreads[t];
      if (b !== undefined) bars.push({ label: `vila-ts wasm, ${t}T`, value: b.gflops, text: `${fx(b.gflops)} GFLOP/s`, kind: 'ours' });
      for (const [name, p] of Object.entries(PEERS.gemmQ4Gflops)) bars.push({ label: `${name}, ${t}T`, value: p[t], text: `${p[t]} GFLOP/s`, kind: 'peer' });
    }
    groups.push({ title: 'int4 GEMM M=128, K=N=4096: GFLOP/s', bars });
  }
  return groups;
}
