// Markdown tables from a bench/simd_vs_relaxed.sh results folder: the two builds side by side,
// ranges over the passes.   npx tsx bench/simd_vs_relaxed_table.ts DIR > DIR/README.md
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: tsx bench/simd_vs_relaxed_table.ts DIR');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const read = (f: string): Record<string, unknown> | undefined => {
  const text = readFileSync(join(dir, f), 'utf8').trim();
  return text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
};
const range = (xs: number[], digits: number): string => {
  if (xs.length === 0) return '–';
  const s = [...xs].sort((a, b) => a - b).map((x) => x.toFixed(digits));
  return s[0] === s[s.length - 1] ? s[0]! : `${s[0]}–${s[s.length - 1]}`;
};
const lines = ['| model | threads | build | prefill tok/s (128) | decode tok/s | image s |', '|---|---|---|---|---|---|'];
for (const [shape, stem] of [['llama-ref', 'llama-ref'], ['vila1.5-3b', 'vila3b']] as const) {
  for (const t of [1, 2]) {
    for (const fl of ['simd', 'relaxed']) {
      const rs = files.filter((f) => f.startsWith(`${stem}-${fl}-${t}-p`)).map(read).filter((r) => r !== undefined);
      if (rs.length === 0) continue;
      const num = (k: string): number[] => rs.map((r) => r[k]).filter((v): v is number => typeof v === 'number');
      lines.push(`| ${shape} | ${t} | ${fl} | ${range(num('prefill_tok_s'), 1)} | ${range(num('decode_tok_s'), 1)} | ${range(num('image_s'), 1)} |`);
    }
  }
}
lines.push('', '| op case, 1 thread (median ms) | simd | relaxed |', '|---|---|---|');
const ops = new Map<string, Record<string, number[]>>();
const ceilings: Record<string, number[]> = { simd: [], relaxed: [] };
for (const fl of ['simd', 'relaxed']) {
  for (const f of files.filter((f) => f.startsWith(`ops-${fl}-`))) {
    const r = read(f) as { cases: { name: string; ms: number }[]; ceilings: { fma_gflops: number }[] } | undefined;
    if (r === undefined) continue;
    for (const c of r.cases) {
      const e = ops.get(c.name) ?? {};
      (e[fl] ??= []).push(c.ms);
      ops.set(c.name, e);
    }
    ceilings[fl]!.push(...r.ceilings.map((c) => c.fma_gflops));
  }
}
for (const [name, e] of ops) {
  if (/q4 llama|siglip|prefill/.test(name)) lines.push(`| ${name} | ${range(e.simd ?? [], 3)} | ${range(e.relaxed ?? [], 3)} |`);
}
lines.push('', `Same-run f32x4 multiply-add ceiling, 1 thread: simd ${range(ceilings.simd!, 1)} GFLOP/s (a multiply then an add), relaxed ${range(ceilings.relaxed!, 1)} GFLOP/s (fused).`);
process.stdout.write(`${lines.join('\n')}\n`);
