// The reference backend's speed on a VILA1.5-3B-shaped checkpoint (random bf16 weights, real
// dimensions): time to encode one image (SigLIP + projector), and time per generated token
// (decode steps after a short prompt), with the peak resident memory. This is the baseline the
// fast backends must beat.
//   npx vila make-twin --like vila1.5-3b --out models-local/vila1.5-3b-twin
//   npx tsx bench/ref_baseline.ts --model models-local/vila1.5-3b-twin [--tokens 4] [--json]
import { parseArgs } from 'node:util';
import { createRefBackend } from '../src/ref/index.js';
import { VilaWeights } from '../src/model/vila.js';
import { seededRandom } from '../src/sampling.js';
import { argmax } from '../src/sampling.js';
import { f32 } from '../src/tensor.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, tokens: { type: 'string', default: '4' }, json: { type: 'boolean' }, 'skip-image': { type: 'boolean' } } });
if (values.model === undefined) throw new Error('--model DIR is required');
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const peak = { rss: 0 };
const sample = setInterval(() => (peak.rss = Math.max(peak.rss, process.memoryUsage().rss)), 200);

let t = performance.now();
const weights = VilaWeights.load(values.model, {
  onProgress: (done, total) => process.stderr.write(`\rloading ${((100 * done) / total).toFixed(0)}%`),
});
const loadS = (performance.now() - t) / 1000;
log(`\nloaded in ${loadS.toFixed(1)} s`);
const be = createRefBackend();

let imageS: number | undefined;
if (values['skip-image'] !== true) {
  const s = weights.imageSize!;
  const random = seededRandom(1);
  const pixels = f32(Float32Array.from({ length: 3 * s * s }, () => random() * 2 - 1), [3, s, s]);
  t = performance.now();
  const feats = weights.encodeImage(be, pixels);
  imageS = (performance.now() - t) / 1000;
  log(`image → ${feats.shape[0]} tokens in ${imageS.toFixed(1)} s`);
}

const prompt = [1, 450, 4996, 17354, 1701, 432, 17204, 975];
const n = Number(values.tokens);
const cache = weights.newCache(prompt.length + n + 1);
t = performance.now();
let logits = weights.forwardTokens(be, prompt, cache).data;
const prefillS = (performance.now() - t) / 1000;
log(`prefill of ${prompt.length} tokens in ${prefillS.toFixed(1)} s`);
const steps: number[] = [];
for (let i = 0; i < n; i++) {
  t = performance.now();
  logits = weights.forwardTokens(be, [argmax(logits)], cache).data;
  steps.push((performance.now() - t) / 1000);
  log(`decode step ${i + 1}: ${steps[i]!.toFixed(2)} s`);
}
clearInterval(sample);
peak.rss = Math.max(peak.rss, process.memoryUsage().rss);
const median = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]!;
const result = {
  model: values.model, backend: 'ref', threads: 1, load_s: loadS, image_s: imageS, prefill_tokens: prompt.length, prefill_s: prefillS,
  decode_s_per_token_median: median, decode_s_per_token: steps, peak_rss_mb: Math.round(peak.rss / 1e6), node: process.version,
};
if (values.json === true) console.log(JSON.stringify(result));
else log(`\nref backend: ${imageS === undefined ? '' : `image ${imageS.toFixed(1)} s, `}decode ${median.toFixed(2)} s/token (median of ${n}), peak RSS ${result.peak_rss_mb} MB`);
