// `vila quantize`: write an int4 copy of a VILA folder (the LLM's decoder linears in the
// TinyChat v2 layout, spec/awq.md §2), loadable by every command with --model. --method awq
// runs the activation-aware search (§1.2–1.3) on calibration data first.

import { Option, type Command } from 'commander';
import { InputError } from '../errors.js';
import { quantizeModel, type QuantizeMethod, type QuantizeReport } from '../quant/quantize_model.js';
import { backendOption, threadsOption } from './common.js';
import { progressBar } from './progress.js';

function positiveInt(flag: string, multipleOf = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0 || n % multipleOf !== 0) {
      throw new InputError(`${flag} takes a positive whole number${multipleOf > 1 ? ` (a multiple of ${multipleOf})` : ''}, got '${value}'`);
    }
    return n;
  };
}

interface QuantizeFlags {
  model: string;
  out: string;
  method: QuantizeMethod;
  groupSize: number;
  calib?: string;
  calibSamples?: number;
  calibTokens?: number;
  awqSearch: 'scale+clip' | 'scale' | 'clip';
  backend?: string;
  threads?: number;
  json?: boolean;
}

/** What AWQ chose, one line per layer: α per scaled group and the loss left relative to RTN. */
function awqLines(r: QuantizeReport): string[] {
  if (r.awq === undefined) return [];
  const lines = [`awq: calibrated on ${r.awq.samples} samples, ${r.awq.tokens} tokens`];
  for (const l of r.awq.layers) {
    const sc = l.scales.map((s) => `${s.name.split('→')[1]} α=${s.alpha.toFixed(2)} (${(100 * s.lossVsRtn).toFixed(0)}%)`).join(', ');
    const cl = l.clips.map((c) => `${c.name} ${(100 * c.lossVsRtn).toFixed(0)}%`).join(' ');
    lines.push(`  layer ${l.layer}: scales ${sc}; clip ${cl}`);
  }
  lines.push('  (percent: loss left after the search, relative to round-to-nearest)');
  return lines;
}

export function quantizeCommand(program: Command): void {
  program
    .command('quantize')
    .description("quantize a VILA folder's LLM linears to int4 (TinyChat v2 layout) into a new folder")
    .requiredOption('--model <dir>', 'VILA model folder to read (config.json, llm/, vision_tower/, mm_projector/)')
    .requiredOption('--out <dir>', 'folder to write; must not exist or be empty')
    .addOption(new Option('--method <name>', 'rtn: round to nearest; awq: activation-aware scale and clip search').choices(['rtn', 'awq']).default('rtn'))
    .addOption(new Option('--group-size <n>', 'weights per scale along the input dimension').argParser(positiveInt('--group-size', 64)).default(128))
    .option('--calib <file>', 'awq calibration data: .txt (text cut into blocks) or .jsonl ({"images": [...], "question", "answer"} per line)')
    .addOption(new Option('--calib-samples <n>', 'awq: blocks or conversations used at most').argParser(positiveInt('--calib-samples')).default(128))
    .addOption(new Option('--calib-tokens <n>', 'awq: tokens per block of a .txt file').argParser(positiveInt('--calib-tokens')).default(512))
    .addOption(new Option('--awq-search <parts>', 'awq: which searches run (llm-awq: both)').choices(['scale+clip', 'scale', 'clip']).default('scale+clip'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('--json', 'print the report as JSON on stdout')
    .action(async (opts: QuantizeFlags) => {
      const bar = progressBar('quantizing', 'steps');
      let r: QuantizeReport;
      try {
        r = await quantizeModel(opts.model, opts.out, {
          method: opts.method,
          groupSize: opts.groupSize,
          ...(opts.calib === undefined ? {} : { calib: opts.calib }),
          ...(opts.calibSamples === undefined ? {} : { calibSamples: opts.calibSamples }),
          ...(opts.calibTokens === undefined ? {} : { calibTokens: opts.calibTokens }),
          ...(opts.backend === undefined ? {} : { backend: opts.backend }),
          ...(opts.threads === undefined ? {} : { threads: opts.threads }),
          awqSettings: { searchScales: opts.awqSearch !== 'clip', searchClip: opts.awqSearch !== 'scale' },
          onProgress: (done, total, what) => bar.update(done, total, what),
        });
      } finally {
        bar.stop();
      }
      if (opts.json === true) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else for (const line of awqLines(r)) process.stderr.write(`${line}\n`);
      process.stderr.write(`quantized ${r.quantized.length} linears to int4 (${opts.method}, group size ${opts.groupSize}), kept ${r.kept.length} tensors; wrote ${opts.out}\n`);
    });
}
