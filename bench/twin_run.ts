// One shape twin, measured in its own process (so its peak RSS is its own): load, a prompt with
// one picture (vision tower + projector + prefill), then greedy decoding. Prints one JSON object.
//   npx tsx bench/twin_run.ts DIR [--tokens 8] [--threads 2] [--text-only]   (--text-only: LLM alone, no picture)

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Model } from '../src/model.js';
import { inspectModel } from '../src/model/inspect.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { tokens: { type: 'string', default: '8' }, threads: { type: 'string', default: '2' }, 'text-only': { type: 'boolean' } },
});
const dir = positionals[0];
if (dir === undefined) {
  console.error('usage: twin_run.ts DIR [--tokens N] [--threads N] [--text-only]');
  process.exit(2);
}
const tokens = Number(values.tokens);
const textOnly = values['text-only'] === true;
const image = textOnly ? [] : [join(import.meta.dirname, '../examples/two-circles.png')];
const summary = inspectModel(dir);
const rssMb = (): number => process.resourceUsage().maxRSS / 1024;

let t = performance.now();
const model = await Model.load(dir, { backend: 'wasm', threads: Number(values.threads), textOnly });
const loadS = (performance.now() - t) / 1000;
const rssAfterLoad = rssMb();

const req = { prompt: 'Describe the picture.', images: image };
const promptTokens = model.inputIds(req).length;
// Rows the LLM prefills: the ids, each image placeholder replaced by the image's projected rows.
const sequenceRows = promptTokens + image.length * ((model.weights.tokensPerImage ?? 1) - 1);
t = performance.now();
const { cache } = await model.prefill(req, tokens);
const prefillS = (performance.now() - t) / 1000;

// Greedy decoding, token by token, through the same path generate() takes.
let id = 1;
t = performance.now();
for (let i = 0; i < tokens; i++) {
  const logits = model.weights.forwardTokens(model.backend, [id], cache).data;
  let best = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
  id = best;
}
const decodeS = (performance.now() - t) / 1000;

process.stdout.write(`${JSON.stringify({
  dir,
  parameters: summary.parameters,
  weight_bytes: summary.bytes,
  int4: summary.parts.some((p) => p.int4 !== undefined),
  load_s: loadS,
  rss_after_load_mb: rssAfterLoad,
  prompt_tokens: promptTokens,
  sequence_rows: sequenceRows,
  images: image.length,
  text_only: textOnly,
  prefill_s: prefillS,
  decode_tokens: tokens,
  decode_s_per_token: decodeS / tokens,
  peak_rss_mb: rssMb(),
  threads: Number(values.threads),
})}\n`);
