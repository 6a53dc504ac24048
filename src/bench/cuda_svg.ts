// The CPU-vs-GPU chart (bench/results/cuda-vs-cpu.svg) as hand-written SVG, like bench/chart.ts
// draws wasm.svg: groups of horizontal bars, each group scaled to its own largest value, every
// bar labelled with its number.

import type { CudaVsCpuReport } from './cuda_vs_cpu.js';

type Kind = 'cpu' | 'gpu' | 'ceiling';
interface Bar {
  label: string;
  value: number | undefined;
  text: string;
  kind: Kind;
}

const COLOURS: Record<Kind, string> = { cpu: '#2f6fb3', gpu: '#76b900', ceiling: '#9aa3ad' };
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function cudaSvg(r: CudaVsCpuReport): string {
  const groups: { title: string; bars: Bar[] }[] = [];
  const copy = r.gpu?.copy_gbs;
  const n = (v: number | undefined, d: number, unit: string): string => (v === undefined ? 'not measured' : `${v.toFixed(d)} ${unit}`);
  for (const f of r.ops) {
    const gemv = f.kind === 'gemv_q4';
    const bars: Bar[] = gemv
      ? [
          { label: `CPU wasm, ${r.cpu_threads} threads`, value: f.gbs.cpu, text: n(f.gbs.cpu, 1, 'GB/s'), kind: 'cpu' },
          { label: 'GPU cuda', value: f.gbs.gpu, text: n(f.gbs.gpu, 0, 'GB/s'), kind: 'gpu' },
          { label: 'GPU device copy (ceiling)', value: copy, text: n(copy, 0, 'GB/s'), kind: 'ceiling' },
        ]
      : [
          { label: `CPU wasm, ${r.cpu_threads} threads`, value: f.tflops.cpu, text: n(f.tflops.cpu, 3, 'TFLOP/s'), kind: 'cpu' },
          { label: 'GPU cuda', value: f.tflops.gpu, text: n(f.tflops.gpu, 2, 'TFLOP/s'), kind: 'gpu' },
        ];
    groups.push({ title: `${f.name} (${gemv ? 'GB/s' : 'TFLOP/s'})`, bars });
  }
  const c = r.model.cpu;
  const g = r.model.gpu;
  if (g !== undefined) {
    const pair = (title: string, cv: number | undefined, gv: number | undefined, d: number, unit: string): void =>
      void groups.push({
        title,
        bars: [
          { label: `CPU wasm, ${r.cpu_threads} threads`, value: cv, text: n(cv, d, unit), kind: 'cpu' },
          { label: 'GPU cuda', value: gv, text: n(gv, d, unit), kind: 'gpu' },
        ],
      });
    pair('VILA1.5-3B shape: decode tokens/s (higher is better)', c?.decode_tok_s, g.decode_tok_s, 1, 'tok/s');
    pair('VILA1.5-3B shape: prefill tokens/s (higher is better)', c?.prefill_tok_s, g.prefill_tok_s, 0, 'tok/s');
    pair(`VILA1.5-3B shape: time to first token, 1 image (${g.image_tokens} tokens) + text, s (lower is better)`, c?.ttft_s, g.ttft_s, 3, 's');
  }
  const W = 1000;
  const LABEL_W = 300;
  const BAR_W = 480;
  const ROW = 18;
  const parts: string[] = [];
  let y = 56;
  for (const gr of groups) {
    y += 12;
    parts.push(`<text x="12" y="${y + 12}" class="group">${esc(gr.title)}</text>`);
    y += ROW + 4;
    const max = Math.max(0, ...gr.bars.map((b) => b.value ?? 0));
    for (const b of gr.bars) {
      const w = b.value === undefined || max <= 0 ? 0 : Math.max(1, (BAR_W * b.value) / max);
      parts.push(`<text x="${LABEL_W - 8}" y="${y + 13}" text-anchor="end" class="label">${esc(b.label)}</text>`);
      if (b.value !== undefined) parts.push(`<rect x="${LABEL_W}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 5}" fill="${COLOURS[b.kind]}"/>`);
      parts.push(`<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + 13}" class="value">${esc(b.text)}</text>`);
      y += ROW;
    }
  }
  const title = `vila-ts: CPU (WebAssembly) vs GPU (CUDA) on ${r.gpu?.name ?? 'no GPU'}`;
  const sub = `${r.date.slice(0, 10)}; int4 GEMV GB/s against the GPU's device-copy bandwidth; GEMM TFLOP/s; random-weight VILA1.5-3B twin`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 20}" viewBox="0 0 ${W} ${y + 20}" font-family="sans-serif">`,
    '<style>.title{font-size:16px;font-weight:bold}.sub{font-size:11px;fill:#555}.group{font-size:13px;font-weight:bold}.label{font-size:11px}.value{font-size:11px;fill:#333}</style>',
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="22" class="title">${esc(title)}</text>`,
    `<text x="12" y="40" class="sub">${esc(sub)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
