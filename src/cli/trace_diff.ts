// `vila trace-diff A.npz B.npz`: op-by-op comparison of two traces written by `vila logits
// --trace` (two backends, or this runtime and a Python script writing the same names): prints
// each op's relative L2 error and exits 1 at the first op above the tolerance.

import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { compareTraces, readNpz } from '../trace.js';

export function traceDiffCommand(program: Command): void {
  program
    .command('trace-diff')
    .description('compare two .npz op traces and report the first op where they diverge')
    .argument('<a>', 'reference trace (.npz)')
    .argument('<b>', 'trace to check (.npz)')
    .option('--tolerance <x>', 'relative L2 error allowed per op', '1e-4')
    .option('--json', 'print one JSON object')
    .action((a: string, b: string, opts: { tolerance: string; json?: boolean }) => {
      const tolerance = Number(opts.tolerance);
      if (!(tolerance >= 0)) throw new InputError(`--tolerance must be a number ≥ 0, got '${opts.tolerance}'`);
      const { diffs, firstAbove } = compareTraces(readNpz(a), readNpz(b), tolerance);
      if (diffs.length === 0) throw new InputError(`the traces ${a} and ${b} share no op names`);
      if (opts.json === true) process.stdout.write(`${JSON.stringify({ ops: diffs.length, first_divergence: firstAbove ?? null, diffs })}\n`);
      else {
        for (const d of diffs) process.stdout.write(`${d.relL2 <= tolerance ? '  ' : '✗ '}${d.name.padEnd(40)} rel L2 ${d.relL2.toExponential(2)}  max |Δ| ${d.maxAbs.toExponential(2)}\n`);
        process.stdout.write(firstAbove === undefined ? `all ${diffs.length} ops within ${tolerance}\n` : `first divergence: ${firstAbove.name}\n`);
      }
      process.exitCode = firstAbove === undefined ? 0 : 1;
    });
}
