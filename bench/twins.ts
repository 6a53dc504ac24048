// Memory and time per token of the shape twins (random weights, real shapes) on this machine:
// each twin is written if its folder is missing (`vila make-twin`), then measured in its own
// process by bench/twin_run.ts (load, a prompt with one picture, greedy decoding). Writes
// bench/results/twins.json, twins.md and twins.svg. A twin whose weights do not fit in this
// machine's memory runs text only when its LLM alone fits (--text-only: the vision tower is not
// loaded), and is otherwise listed with the reason and only inspected.
//
//   npx tsx bench/twins.ts [--dir models-local] [--tokens 8] [--only vila1.5-3b,vila1.5-3b:awq] [--delete]
//   npx tsx bench/twins.ts --render        the table and chart again from bench/results/twins.json
// (--delete: remove each random-weight twin once measured; all of them take ~80 GB of disk). A
// twin measured text only is written with its vision tower as sparse zeros (never read).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inspectModel } from '../src/model/inspect.js';
import { MEMBERS, type TwinMemberName } from '../src/twin/members.js';
import { writeTwin } from '../src/twin/write.js';
import { renderSvg, type ChartGroup } from './chart.js';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: join(root, 'models-local') },
    tokens: { type: 'string', default: '8' },
    only: { type: 'string' },
    out: { type: 'string', default: join(root, 'bench/results') },
    delete: { type: 'boolean' },
    render: { type: 'boolean' },
  },
});

interface Case { member: TwinMemberName; awq: boolean }
const ALL: Case[] = [
  { member: 'vila1.5-3b', awq: false }, { member: 'vila1.5-3b', awq: true },
  { member: 'vila1.5-3b-s2', awq: false }, { member: 'vila1.5-3b-s2', awq: true },
  { member: 'llama-3-vila1.5-8b', awq: false }, { member: 'llama-3-vila1.5-8b', awq: true },
  { member: 'vila1.5-13b', awq: false }, { member: 'vila1.5-13b', awq: true },
  { member: 'vila1.5-40b', awq: false }, { member: 'vila1.5-40b', awq: true },
];
const label = (c: Case): string => `${c.member}${c.awq ? ' AWQ' : ''}`;
const cases = values.only === undefined ? ALL : ALL.filter((c) => values.only!.split(',').includes(`${c.member}${c.awq ? ':awq' : ''}`));

const ramBytes = totalmem();
const machine = `${process.platform} ${process.arch}, ${(ramBytes / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
mkdirSync(values.out!, { recursive: true });
const jsonPath = join(values.out!, 'twins.json');
const report = values.render === true
  ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as { machine: string; tokens: number; rows: Record<string, unknown>[] })
  : await measure();
render(report);

async function measure(): Promise<{ machine: string; tokens: number; rows: Record<string, unknown>[] }> {
  // A twin runs when its weights, plus ~1.5 GB of activations and runtime, fit in 90% of RAM.
  const rows: Record<string, unknown>[] = [];
  for (const c of cases) {
    const name = `${c.member}${c.awq ? '-awq' : ''}-twin`;
    const dir = join(values.dir!, name);
    const zerosDir = join(values.dir!, `${name}-zeros`);
    // The size is known before writing: inspect a sparse all-zeros twin (no disk space).
    if (!existsSync(zerosDir)) await writeTwin({ out: zerosDir, member: MEMBERS[c.member], awq: c.awq, fill: 'zeros', seed: 0 });
    const size = inspectModel(zerosDir);
    const fits = (bytes: number): boolean => bytes + 1.5e9 < 0.9 * ramBytes;
    const textOnly = !fits(size.bytes);
    if (textOnly && !fits(size.parts[0]!.bytes)) {
      process.stderr.write(`${label(c)}: ${(size.bytes / 1e9).toFixed(1)} GB of weights do not fit in ${(ramBytes / 2 ** 30).toFixed(0)} GiB, nor its LLM alone: inspected only\n`);
      rows.push({ case: label(c), parameters: size.parameters, weight_bytes: size.bytes, ran: false, why: `weights ${(size.bytes / 1e9).toFixed(1)} GB > RAM` });
      continue;
    }
    if (!existsSync(dir)) {
      process.stderr.write(`writing ${dir} …\n`);
      const t = performance.now();
      await writeTwin({ out: dir, member: MEMBERS[c.member], awq: c.awq, fill: 'random', seed: 0, ...(textOnly ? { visionFill: 'zeros' as const } : {}) });
      process.stderr.write(`  ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
    }
    process.stderr.write(`measuring ${label(c)}${textOnly ? ' (text only: the whole model does not fit)' : ''} …\n`);
    const args = [join(root, 'bench/twin_run.ts'), dir, '--tokens', values.tokens!, ...(textOnly ? ['--text-only'] : [])];
    const out = execFileSync(process.execPath, ['--import', 'tsx', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
    rows.push({ case: `${label(c)}${textOnly ? ' (text only)' : ''}`, ran: true, ...r, parameters: size.parameters, weight_bytes: size.bytes });
    if (values.delete === true) rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`  load ${r.load_s!.toFixed(1)} s, prefill ${r.prefill_s!.toFixed(1)} s, ${r.decode_s_per_token!.toFixed(2)} s/token, peak RSS ${(r.peak_rss_mb! / 1024).toFixed(1)} GiB\n`);
  }

  const r = { date: new Date().toISOString(), machine, tokens: Number(values.tokens), rows };
  writeFileSync(jsonPath, `${JSON.stringify(r, null, 2)}\n`);
  return r;
}

function render({ machine, tokens, rows }: { machine: string; tokens: number; rows: Record<string, unknown>[] }): void {
  const f = (x: unknown, d: number): string => (typeof x === 'number' ? x.toFixed(d) : '–');
  const md = [
    '| twin | parameters | weights | ran | load | prompt: picture (tower + projector) and prefill | decode | peak RSS |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
    ...rows.map((r) => r.ran !== true
      ? `| ${String(r.case)} | ${f((r.parameters as number) / 1e9, 2)} B | ${f((r.weight_bytes as number) / 1e9, 1)} GB | no (${String(r.why)}); inspected | – | – | – | – |`
      : `| ${String(r.case)} | ${f((r.parameters as number) / 1e9, 2)} B | ${f((r.weight_bytes as number) / 1e9, 1)} GB | yes | ${f(r.load_s, 1)} s | ${f(r.prefill_s, 1)} s (${r.images === 0 ? 'no picture' : `${String(r.images)} picture`}, ${f(r.sequence_rows, 0)} rows) | ${f(r.decode_s_per_token, 2)} s/token | ${f((r.peak_rss_mb as number) / 1024, 1)} GiB |`),
  ].join('\n');
  writeFileSync(join(values.out!, 'twins.md'), `${md}\n`);
  const ran = rows.filter((r) => r.ran === true);
  const groups: ChartGroup[] = [
    { title: 'decode: seconds per token (lower is better)', bars: ran.map((r) => ({ label: String(r.case), value: r.decode_s_per_token as number, text: `${f(r.decode_s_per_token, 2)} s`, kind: 'ours' as const })) },
    { title: 'prompt: seconds (one picture through the tower, then prefill; text only: no picture)', bars: ran.map((r) => ({ label: String(r.case), value: r.prefill_s as number, text: `${f(r.prefill_s, 1)} s`, kind: 'ours' as const })) },
    { title: 'peak resident memory: GiB', bars: ran.map((r) => ({ label: String(r.case), value: (r.peak_rss_mb as number) / 1024, text: `${f((r.peak_rss_mb as number) / 1024, 1)} GiB`, kind: 'ours' as const })) },
  ];
  writeFileSync(join(values.out!, 'twins.svg'), renderSvg('VILA 1.5 shape twins on the CPU (wasm backend, random weights, real shapes)', `${machine}; 2 threads; decode: mean of ${tokens} greedy tokens`, groups));
  process.stdout.write(`${md}\n`);
}
