// `vila inspect`: summarise a model folder without loading its weights.

import { Option, type Command } from 'commander';
import { DEFAULT_MODEL_DIR } from '../default_model.js';
import { formatSummary, inspectModel } from '../model/inspect.js';

export function inspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('summarise a model folder: architecture, sizes, dtypes, parameters')
    .addOption(new Option('--model <dir>', 'model folder').default(DEFAULT_MODEL_DIR, 'the bundled vila-shapes'))
    .option('--json', 'print one JSON object')
    .action((opts: { model: string; json?: boolean }) => {
      const summary = inspectModel(opts.model);
      process.stdout.write(opts.json === true ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
    });
}
