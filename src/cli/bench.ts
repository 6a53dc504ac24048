// `vila bench ops` and `vila bench model`: the op kernels against this machine's ceilings, and a
// random-weight model of a real shape end to end. Results go to stdout (a table, or one JSON
// object with --json); progress goes to stderr. Measure one thread count per process: on two
// cores, idle workers of another pool compete with the one being timed.

import { Option, type Command } from 'commander';
import { runModelBench } from '../bench/model.js';
import { runOpsBench } from '../bench/ops.js';
import { formatModel, formatOps } from '../bench/format.js';
import { BENCH_SHAPE_NAMES } from '../bench/shapes.js';
import { InputError } from '../errors.js';
import { defaultThreads } from '../wasm/backend.js';
import type { WasmFlavor } from '../wasm/module.js';
import { progressBar, type Progress } from './progress.js';

function wholeNumber(name: string, value: string, min: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new InputError(`${name} must be a whole number ≥ ${min}, got '${value}'`);
  return n;
}

/** One progress bar per stage, replaced when the stage changes (stderr, terminals only). */
function stagedProgress(): { update: (stage: string, done: number, total: number, label?: string) => void; stop: () => void } {
  let stage = '';
  let bar: Progress | undefined;
  return {
    update(s, done, total, label = '') {
      if (s !== stage || bar === undefined) {
        bar?.stop();
        bar = progressBar(s, 'steps');
        stage = s;
      }
      bar.update(done, total, label);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

const flavorOption = (): Option => new Option('--flavor <flavor>', 'WebAssembly build (relaxed needs engine support)').choices(['simd', 'relaxed']);
const threadsOption = (): Option => new Option('--threads <n>', 'threads, the calling one included').default(String(defaultThreads()));

interface OpsOptions {
  threads: string;
  json?: boolean;
  filter?: string;
  flavor?: WasmFlavor;
  time: string;
  nativeOnly?: boolean;
}

interface ModelOptions {
  shape: string;
  threads: string;
  json?: boolean;
  backend: 'wasm' | 'ref' | 'cuda';
  flavor?: WasmFlavor;
  tokens: string;
  promptTokens: string;
  skipImage?: boolean;
}

export function benchCommand(program: Command): void {
  const bench = program.command('bench').description('measure speed: op kernels against this machine\'s ceilings, or a whole model');
  bench
    .command('ops')
    .description('time every op case on the WebAssembly backend (GFLOP/s, GB/s) next to the FMA and read ceilings measured in the same run')
    .addOption(threadsOption())
    .option('--json', 'print one JSON object')
    .option('--filter <text>', 'only cases whose name contains this text')
    .addOption(flavorOption())
    .option('--time <ms>', 'time budget per case in ms', '1000')
    .option('--native-only', 'skip cases that have no wasm kernel yet (they run on the slow reference)')
    .action((opts: OpsOptions) => {
      const bar = stagedProgress();
      const report = (() => {
        try {
          return runOpsBench({
            threads: wholeNumber('--threads', opts.threads, 1),
            timeMs: wholeNumber('--time', opts.time, 0),
            ...(opts.filter === undefined ? {} : { filter: opts.filter }),
            ...(opts.flavor === undefined ? {} : { flavor: opts.flavor }),
            nativeOnly: opts.nativeOnly === true,
            onCase: (name, i, total) => bar.update('ops', i, total, name),
          });
        } finally {
          bar.stop();
        }
      })();
      process.stdout.write(opts.json === true ? `${JSON.stringify(report)}\n` : `${formatOps(report)}\n`);
    });
  bench
    .command('model')
    .description('build a random-weight model of a real shape in memory and time image encoding, prefill and decode')
    .addOption(new Option('--shape <name>', 'model shape').choices(BENCH_SHAPE_NAMES).default('vila1.5-3b'))
    .addOption(threadsOption())
    .option('--json', 'print one JSON object')
    .addOption(new Option('--backend <name>', 'op backend').choices(['wasm', 'ref', 'cuda']).default('wasm'))
    .addOption(flavorOption())
    .option('--tokens <n>', 'decode steps timed (the figure is their median)', '16')
    .option('--prompt-tokens <n>', 'prompt length for the prefill figure', '128')
    .option('--skip-image', 'do not time the image even when the shape has a vision tower')
    .action((opts: ModelOptions) => {
      const bar = stagedProgress();
      const report = (() => {
        try {
          return runModelBench({
            shape: opts.shape,
            backend: opts.backend,
            threads: wholeNumber('--threads', opts.threads, 1),
            ...(opts.flavor === undefined ? {} : { flavor: opts.flavor }),
            tokens: wholeNumber('--tokens', opts.tokens, 1),
            promptTokens: wholeNumber('--prompt-tokens', opts.promptTokens, 1),
            skipImage: opts.skipImage === true,
            onProgress: bar.update,
            onLog: (line) => {
              bar.stop();
              process.stderr.write(`${line}\n`);
            },
          });
        } finally {
          bar.stop();
        }
      })();
      process.stdout.write(opts.json === true ? `${JSON.stringify(report)}\n` : `${formatModel(report)}\n`);
    });
}
