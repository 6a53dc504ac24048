// `vila inspect`: summarise a model folder without loading its weights.

import type { Command } from 'commander';
import { formatSummary, inspectModel } from '../model/inspect.js';

export function inspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('summarise a model folder: architecture, sizes, dtypes, parameters')
    .requiredOption('--model <dir>', 'model folder')
    .option('--json', 'print one JSON object')
    .action((opts: { model: string; json?: boolean }) => {
      const summary = inspectModel(opts.model);
      process.stdout.write(opts.json === true ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
    });
}
