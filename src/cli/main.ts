// The command line. Library code throws typed errors; here they become a one-line message on
// stderr and a non-zero exit code (2 for usage and input errors, 1 for everything else).

import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { InputError, VilaError } from '../errors.js';
import { benchCommand } from './bench.js';
import { evalCommand } from './eval.js';
import { framesCommand } from './frames.js';
import { generateCommand } from './generate.js';
import { inspectCommand } from './inspect.js';
import { logitsCommand } from './logits.js';
import { makeTwinCommand } from './make_twin.js';
import { quantizeCommand } from './quantize.js';
import { detokenizeCommand, tokenizeCommand } from './tokenize.js';
import { traceDiffCommand } from './trace_diff.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('vila')
    .description('Run NVIDIA VILA 1.5 vision-language models in TypeScript')
    .version(version())
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  generateCommand(program);
  logitsCommand(program);
  framesCommand(program);
  inspectCommand(program);
  traceDiffCommand(program);
  benchCommand(program);
  quantizeCommand(program);
  evalCommand(program);
  tokenizeCommand(program);
  detokenizeCommand(program);
  makeTwinCommand(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/** Run the CLI; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander already printed the message
    if (e instanceof VilaError) {
      process.stderr.write(`vila: ${e.name}: ${e.message}\n`);
      return e instanceof InputError ? 2 : 1;
    }
    process.stderr.write(`vila: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
