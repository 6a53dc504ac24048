// The benchmark suite: `vila bench ops` and `vila bench model` with 1 and 2 threads, each as its
// own process, one at a time (on 2 cores, a second pool's idle workers or a second process steal
// the cores being measured), alternating the thread-count order over passes so that a slow
// phase of the shared host hits every configuration alike (as peers/run_all.sh does). Writes
// bench/results/wasm-<date>.json (every report, the pooled medians, the machine and the kernel
// build) and bench/results/wasm.svg, and prints the README's tables.
//   npm run bench                      # build, then everything with the defaults below
//   npx tsx bench/run.ts --passes 3 --shapes llama-ref --tokens 16 --skip-ops
//   npx tsx bench/run.ts --from bench/results/wasm-DATE.json[,MORE.json]   # re-summarise (pooled) and redraw, no runs
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from '../src/bench/machine.js';
import { chartGroups, renderSvg } from './chart.js';
import { markdown, summarize, type Report } from './summary.js';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    passes: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1,2' },
    shapes: { type: 'string', default: 'llama-ref,vila1.5-3b' },
    tokens: { type: 'string', default: '16' },
    'prompt-tokens': { type: 'string', default: '128' },
    time: { type: 'string', default: '1000' },
    flavor: { type: 'string' },
    filter: { type: 'string' },
    'skip-ops': { type: 'boolean' },
    'skip-model': { type: 'boolean' },
    'native-only': { type: 'boolean' },
    out: { type: 'string', default: join(root, 'bench', 'results') },
    label: { type: 'string' },
    from: { type: 'string' },
  },
});

const log = (s: string): void => void process.stderr.write(`[${new Date().toTimeString().slice(0, 8)}] ${s}\n`);
const threads = values.threads!.split(',').map(Number);
const shapes = values.shapes!.split(',').filter((s) => s !== '');
const flavor = values.flavor === undefined ? [] : ['--flavor', values.flavor];

function git(...args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** One `vila bench` process; its JSON report, or an error record (a failed run never stops the suite). */
function vila(args: string[]): Report | { error: string; args: string[] } {
  log(`vila ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'vila.js'), ...args, '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) return { error: `exit ${r.status ?? r.signal}`, args };
  return JSON.parse(r.stdout) as Report;
}

type Run = Report | { error: string; args: string[] };

interface Result {
  label: string | null;
  started: ReturnType<typeof machineInfo>;
  finished: ReturnType<typeof machineInfo>;
  git: { commit: string | undefined; kernels_commit: string | undefined; kernels_dirty: boolean };
  kernels_build: string | null;
  options: unknown;
  summary: ReturnType<typeof summarize>;
  runs: Run[];
}

function measure(): Result {
  const started = machineInfo();
  const runs: Run[] = [];
  for (let p = 0; p < Number(values.passes); p++) {
    const order = p % 2 === 0 ? threads : [...threads].reverse();
    for (const t of order) {
      if (values['skip-ops'] !== true) {
        runs.push(vila(['bench', 'ops', '--threads', String(t), '--time', values.time!, ...flavor,
          ...(values.filter === undefined ? [] : ['--filter', values.filter]), ...(values['native-only'] === true ? ['--native-only'] : [])]));
      }
      if (values['skip-model'] !== true) {
        for (const shape of shapes) {
          runs.push(vila(['bench', 'model', '--shape', shape, '--threads', String(t), '--tokens', values.tokens!, '--prompt-tokens', values['prompt-tokens']!, ...flavor]));
        }
      }
    }
  }
  const reports = runs.filter((r): r is Report => !('error' in r));
  return {
    label: values.label ?? null,
    started,
    finished: machineInfo(),
    git: {
      commit: git('rev-parse', '--short', 'HEAD'),
      kernels_commit: git('log', '-1', '--format=%h %s', '--', 'wasm', 'src/wasm'),
      kernels_dirty: (git('status', '--porcelain', '--', 'wasm', 'src/wasm') ?? '') !== '',
    },
    kernels_build: reports.find((r) => r.kernels !== undefined)?.kernels ?? null,
    options: values,
    summary: summarize(reports),
    runs,
  };
}

/** --from A.json,B.json: earlier results, their runs pooled and summarised again (the first gives the header). */
function load(files: string[]): Result {
  const results = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Result);
  const first = results[0]!;
  return { ...first, finished: results[results.length - 1]!.finished, runs: results.flatMap((r) => r.runs) };
}

const result: Result = values.from === undefined ? measure() : load(values.from.split(','));
const reports = result.runs.filter((r): r is Report => !('error' in r));
const summary = summarize(reports);
result.summary = summary;
const { started, runs } = result;
const { commit, kernels_dirty: dirty } = result.git;
const date = started.date.slice(0, 10);
mkdirSync(values.out!, { recursive: true });
const jsonFile = join(values.out!, `wasm-${date}.json`);
writeFileSync(jsonFile, `${JSON.stringify(result, null, 1)}\n`);
const subtitle = `${started.cpu}, ${started.cores} cores, node ${started.node}, ${date}; kernels ${commit ?? '?'}${dirty ? '+uncommitted' : ''} (build ${result.kernels_build ?? '?'}); load ${started.loadavg[0]} at start`;
writeFileSync(join(values.out!, 'wasm.svg'), renderSvg('vila-ts WebAssembly backend on this machine', subtitle, chartGroups(summary)));
log(`wrote ${jsonFile} and ${join(values.out!, 'wasm.svg')}; ${runs.length - reports.length} run(s) failed`);
process.stdout.write(`${markdown(summary, threads)}\n`);
process.exitCode = runs.length === reports.length ? 0 : 1;
