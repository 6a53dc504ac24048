// `vila tokenize` and `vila detokenize`: a model's tokenizer checked from outside, without its
// weights. Ids are `tokenizer(text).input_ids` (special tokens in the text recognised, BOS as the
// tokenizer config says); text is `tokenizer.decode(ids, skip_special_tokens=...)`.

import { Option, type Command } from 'commander';
import { DEFAULT_MODEL_DIR } from '../default_model.js';
import { InputError } from '../errors.js';
import { checkIdsInRange, loadFolderTokenizer, parseIds, readIdLines, readTextLines } from './token_io.js';

const modelOption = (): Option =>
  new Option('--model <dir>', 'model folder (its tokenizer in llm/) or a tokenizer folder').default(DEFAULT_MODEL_DIR, 'the bundled vila-shapes');

/** Exactly one of two input options. */
function oneOf<T>(a: T | undefined, b: T | undefined, names: string): void {
  if ((a === undefined) === (b === undefined)) throw new InputError(`give exactly one of ${names}`);
}

export function tokenizeCommand(program: Command): void {
  program
    .command('tokenize')
    .description("print a text's token ids (loads only the tokenizer)")
    .addOption(modelOption())
    .option('--text <text>', 'the text')
    .option('--text-file <file>', 'many texts: one JSON string per line in, one {"ids":[...]} per line out')
    .option('--json', 'print {"ids":[...]}')
    .action(async (opts: { model: string; text?: string; textFile?: string; json?: boolean }) => {
      oneOf(opts.text, opts.textFile, '--text TEXT or --text-file FILE');
      const texts = opts.textFile === undefined ? undefined : readTextLines(opts.textFile);
      const tokenizer = await loadFolderTokenizer(opts.model);
      if (texts !== undefined) {
        process.stdout.write(texts.map((t) => `${JSON.stringify({ ids: tokenizer.encode(t) })}\n`).join(''));
        return;
      }
      const ids = tokenizer.encode(opts.text!);
      process.stdout.write(opts.json === true ? `${JSON.stringify({ ids })}\n` : `${ids.join(' ')}\n`);
    });
}

export function detokenizeCommand(program: Command): void {
  program
    .command('detokenize')
    .description('print the text of token ids (loads only the tokenizer)')
    .addOption(modelOption())
    .option('--ids <ids>', 'token ids: "1 2 3" or a JSON array "[1,2,3]"')
    .option('--ids-file <file>', 'many id lists: one JSON array per line in, one {"text":"..."} per line out')
    .option('--skip-special-tokens', 'leave out special tokens (BOS, EOS, ...)')
    .option('--json', 'print {"text":"..."}')
    .action(async (opts: { model: string; ids?: string; idsFile?: string; skipSpecialTokens?: boolean; json?: boolean }) => {
      oneOf(opts.ids, opts.idsFile, '--ids IDS or --ids-file FILE');
      const lists = opts.idsFile === undefined ? [{ what: '--ids', ids: parseIds(opts.ids!) }] : readIdLines(opts.idsFile).map(({ line, ids }) => ({ what: `${opts.idsFile}: line ${line}`, ids }));
      const tokenizer = await loadFolderTokenizer(opts.model);
      for (const { what, ids } of lists) checkIdsInRange(tokenizer, ids, what);
      const texts = lists.map(({ ids }) => tokenizer.decode(ids, { skipSpecialTokens: opts.skipSpecialTokens === true }));
      if (opts.idsFile !== undefined || opts.json === true) process.stdout.write(texts.map((text) => `${JSON.stringify({ text })}\n`).join(''));
      else process.stdout.write(`${texts[0]}\n`);
    });
}
