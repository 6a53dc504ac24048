// `vila generate`: answer a prompt (with images), streaming the text, or with --json one object
// {"output_ids":[...],"text":"..."}.

import { Option, type Command } from 'commander';
import { InputError } from '../errors.js';
import { DEFAULT_MAX_NEW_TOKENS, DEFAULT_SAMPLING } from '../model.js';
import { imageCount } from '../media/parts.js';
import { addPromptOptions, loadModelWithProgress, mediaRequest, promptOf, showPrefillProgress, decodeOptions, type PromptOptions } from './common.js';

interface GenerateOptions extends PromptOptions {
  maxNewTokens: string;
  temperature: string;
  topP: string;
  topK: string;
  seed?: string;
}

function number(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`${name} must be a number, got '${value}'`);
  return n;
}

export function generateCommand(program: Command): void {
  const cmd = addPromptOptions(program.command('generate').description('answer a prompt, optionally about images and videos'))
    .option('--max-new-tokens <n>', 'most tokens to generate', String(DEFAULT_MAX_NEW_TOKENS))
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', String(DEFAULT_SAMPLING.temperature))
    .option('--top-p <p>', 'nucleus sampling: keep tokens up to this total probability', String(DEFAULT_SAMPLING.topP))
    .option('--top-k <k>', 'keep the k most likely tokens (0 = all)', String(DEFAULT_SAMPLING.topK))
    .addOption(new Option('--seed <s>', 'random seed for sampling (default: random)'));
  cmd.action(async (positional: string | undefined, opts: GenerateOptions) => {
    const prompt = promptOf(opts, positional);
    const sampling = {
      temperature: number('--temperature', opts.temperature),
      topP: number('--top-p', opts.topP),
      topK: number('--top-k', opts.topK),
      seed: opts.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number('--seed', opts.seed),
    };
    const maxNewTokens = number('--max-new-tokens', opts.maxNewTokens);
    const model = await loadModelWithProgress(opts);
    const stream = opts.json !== true;
    const media = mediaRequest(opts);
    const stopProgress = showPrefillProgress(model, imageCount(media, model.config.numVideoFrames));
    const result = await model.generate({
      prompt,
      ...media,
      raw: opts.raw === true,
      decode: decodeOptions(opts),
      maxNewTokens,
      sampling,
      ...(stream ? { onText: (delta: string) => process.stdout.write(delta) } : {}),
    }).finally(stopProgress);
    if (stream) process.stdout.write('\n');
    else process.stdout.write(`${JSON.stringify({ output_ids: result.outputIds, text: result.text })}\n`);
  });
}
