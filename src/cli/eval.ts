// `vila eval`: how well a model answers a question set (accuracy, answer perplexity) and, with
// --text, its perplexity on a plain text; --reference DIR adds the divergence from another
// model (the full-precision one a quantized model came from).

import { Option, type Command } from 'commander';
import { InputError } from '../errors.js';
import { readQuestions, scoreQuestions, type QuestionScores } from '../eval/questions.js';
import { scoreText, type TextScores } from '../eval/text.js';
import { Model } from '../model.js';
import { addModelOptions, parseThreads, type ModelOptions } from './common.js';
import { progressBar } from './progress.js';

interface EvalFlags extends ModelOptions {
  questions?: string;
  text?: string;
  limit?: number;
  blockTokens?: number;
  reference?: string;
  json?: boolean;
}

function formatQuestions(s: QuestionScores): string {
  const lines = [
    `questions: ${s.correct}/${s.questions} exact (${(100 * s.accuracy).toFixed(1)}%), answer perplexity ${s.perplexity.toFixed(4)} over ${s.answerTokens} tokens`,
  ];
  if (s.klVsReference !== undefined) {
    lines.push(`  vs reference: KL ${s.klVsReference.toExponential(3)} nats/answer token, ${s.klTextVsReference!.toExponential(3)} nats/text token, ${s.answersDifferingFromReference} answers differ`);
  }
  lines.push(`  by kind: ${Object.entries(s.byKind).map(([k, v]) => `${k} ${v.correct}/${v.questions}`).join(', ')}`);
  return lines.join('\n');
}

function formatText(s: TextScores): string {
  const kl = s.klVsReference === undefined ? '' : `, KL vs reference ${s.klVsReference.toExponential(3)} nats/token`;
  return `text: perplexity ${s.perplexity.toFixed(4)} over ${s.tokens} tokens in ${s.blocks} blocks${kl}`;
}

export function evalCommand(program: Command): void {
  addModelOptions(program.command('eval').description('score a model: accuracy and answer perplexity on a question set, perplexity on a text'))
    .option('--questions <file>', 'question set: .jsonl lines {"images": [...], "question", "answer", "kind"?}')
    .option('--text <file>', 'plain text for perplexity')
    .addOption(new Option('--limit <n>', 'questions (or text blocks) used at most').argParser(parseThreads))
    .addOption(new Option('--block-tokens <n>', 'tokens per text block (default 512)').argParser(parseThreads))
    .option('--reference <dir>', 'also report the divergence from this model (e.g. the full-precision original)')
    .option('--json', 'print one JSON object')
    .action(async (opts: EvalFlags) => {
      if (opts.questions === undefined && opts.text === undefined) throw new InputError('give --questions FILE, --text FILE or both');
      const load = (dir: string): Promise<Model> =>
        Model.load(dir, { backend: opts.backend, ...(opts.threads === undefined ? {} : { threads: opts.threads }), ...(opts.convMode === undefined ? {} : { convMode: opts.convMode }) });
      const model = await load(opts.model);
      const reference = opts.reference === undefined ? undefined : await load(opts.reference);
      const out: { model: string; reference?: string; questions?: QuestionScores; text?: TextScores } = { model: opts.model };
      if (opts.reference !== undefined) out.reference = opts.reference;
      if (opts.questions !== undefined) {
        const bar = progressBar('questions', 'steps');
        try {
          out.questions = await scoreQuestions(model, readQuestions(opts.questions, opts.limit), {
            ...(reference === undefined ? {} : { reference }),
            onProgress: (d, t) => bar.update(d, t, ''),
          });
        } finally {
          bar.stop();
        }
      }
      if (opts.text !== undefined) {
        const bar = progressBar('text', 'steps');
        try {
          out.text = scoreText(model, opts.text, {
            ...(opts.blockTokens === undefined ? {} : { blockTokens: opts.blockTokens }),
            ...(opts.limit === undefined ? {} : { maxBlocks: opts.limit }),
            ...(reference === undefined ? {} : { reference }),
            onProgress: (d, t) => bar.update(d, t, ''),
          });
        } finally {
          bar.stop();
        }
      }
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      if (out.questions !== undefined) process.stdout.write(`${formatQuestions(out.questions)}\n`);
      if (out.text !== undefined) process.stdout.write(`${formatText(out.text)}\n`);
    });
}
