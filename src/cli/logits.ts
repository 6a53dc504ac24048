// `vila logits`: the ids fed to the model and the logits at the last position, as one JSON
// object {"input_ids":[...],"logits":[...]} — how the model is checked from outside.

import type { Command } from 'commander';
import { imageCount } from '../media/parts.js';
import { addPromptOptions, loadModelWithProgress, mediaRequest, promptOf, showPrefillProgress, decodeOptions, type PromptOptions } from './common.js';
import { recordTrace, writeNpz } from '../trace.js';
import { f32ArrayJson } from './floats.js';

export function logitsCommand(program: Command): void {
  addPromptOptions(program.command('logits').description('print the input ids and the last-position logits as JSON'))
    .option('--trace <file.npz>', "also record every op's output under its name into a .npz (numpy) file")
    .action(async (positional: string | undefined, opts: PromptOptions & { trace?: string }) => {
      const prompt = promptOf(opts, positional);
      const model = await loadModelWithProgress(opts);
      const media = mediaRequest(opts);
      const stopProgress = showPrefillProgress(model, imageCount(media, model.config.numVideoFrames));
      const recorder = opts.trace === undefined ? undefined : recordTrace();
      const { inputIds, logits } = await model.logits({ prompt, ...media, raw: opts.raw === true, decode: decodeOptions(opts) }).finally(() => {
        recorder?.stop();
        stopProgress();
      });
      if (recorder !== undefined && opts.trace !== undefined) writeNpz(opts.trace, recorder.trace);
      process.stdout.write(`{"input_ids":${JSON.stringify(inputIds)},"logits":${f32ArrayJson(logits)}}\n`);
    });
}
