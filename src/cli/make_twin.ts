// `vila make-twin --like MEMBER [--awq] [--fill random|zeros] --out DIR`: writes a shape twin,
// a folder with a published member's configs, tensor names and shapes and random weights (or
// zeros as sparse holes: such a folder takes no disk space and serves `vila inspect`), so that
// every member can be loaded and run without its real weights.

import { Option, type Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { InputError } from '../errors.js';
import { isTwinMember, MEMBERS, TWIN_MEMBERS } from '../twin/members.js';
import { writeTwin } from '../twin/write.js';
import { progressBar } from './progress.js';

interface MakeTwinOptions {
  like: string;
  out: string;
  awq?: boolean;
  fill: 'random' | 'zeros';
  seed: string;
}

export function makeTwinCommand(program: Command): void {
  program
    .command('make-twin')
    .description("write a random-weight folder with a published member's exact configs and tensor shapes")
    .addOption(new Option('--like <member>', 'the published member to imitate').choices([...TWIN_MEMBERS]).makeOptionMandatory())
    .requiredOption('--out <dir>', 'the folder to write (must not exist or be empty)')
    .option('--awq', 'the -AWQ repo: llm/ holds a TinyChat v2 int4 checkpoint (.pt), as published')
    .addOption(new Option('--fill <fill>', 'random weights, or zeros written as sparse holes (for inspection only)').choices(['random', 'zeros']).default('random'))
    .option('--seed <n>', 'seed of the random weights', '0')
    .action(async (opts: MakeTwinOptions) => {
      if (!isTwinMember(opts.like)) throw new InputError(`--like must be one of ${TWIN_MEMBERS.join(', ')}`);
      if (existsSync(opts.out) && readdirSync(opts.out).length > 0) throw new InputError(`--out ${opts.out} exists and is not empty`);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new InputError(`--seed must be a whole number ≥ 0, got '${opts.seed}'`);
      const t0 = performance.now();
      const bar = progressBar(`writing ${opts.like}${opts.awq === true ? ' (AWQ)' : ''} twin`);
      const summary = await writeTwin({
        out: opts.out,
        member: MEMBERS[opts.like],
        awq: opts.awq === true,
        fill: opts.fill,
        seed,
        onProgress: (done, total, what) => bar.update(done, total, what),
      }).finally(() => bar.stop());
      const gb = (summary.bytes / 1e9).toFixed(2);
      process.stdout.write(`wrote ${opts.out}: ${summary.tensors} tensors, ${gb} GB of weights${opts.fill === 'zeros' ? ' (sparse zeros)' : ''}, in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}
