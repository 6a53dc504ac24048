// `vila quantize`: write an int4 copy of a VILA folder (the LLM's decoder linears in the
// TinyChat v2 layout, spec/awq.md §2), loadable by every command with --model.

import { Option, type Command } from 'commander';
import { InputError } from '../errors.js';
import { quantizeModel, type QuantizeMethod } from '../quant/quantize_model.js';
import { progressBar } from './progress.js';

function parseGroupSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n % 64 !== 0) throw new InputError(`--group-size takes a positive multiple of 64, got '${value}'`);
  return n;
}

export function quantizeCommand(program: Command): void {
  program
    .command('quantize')
    .description("quantize a VILA folder's LLM linears to int4 (TinyChat v2 layout) into a new folder")
    .requiredOption('--model <dir>', 'VILA model folder to read (config.json, llm/, vision_tower/, mm_projector/)')
    .requiredOption('--out <dir>', 'folder to write; must not exist or be empty')
    .addOption(new Option('--method <name>', 'rtn: round to nearest; awq: activation-aware (not implemented yet)').choices(['rtn', 'awq']).default('rtn'))
    .addOption(new Option('--group-size <n>', 'weights per scale along the input dimension').argParser(parseGroupSize).default(128))
    .action((opts: { model: string; out: string; method: QuantizeMethod; groupSize: number }) => {
      const bar = progressBar('quantizing', 'steps');
      let r;
      try {
        r = quantizeModel(opts.model, opts.out, {
          method: opts.method,
          groupSize: opts.groupSize,
          onProgress: (done, total, what) => bar.update(done, total, what),
        });
      } finally {
        bar.stop();
      }
      process.stderr.write(`quantized ${r.quantized.length} linears to int4 (group size ${opts.groupSize}), kept ${r.kept.length} tensors; wrote ${opts.out}\n`);
    });
}
