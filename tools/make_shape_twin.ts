// Write a random-weight VILA 1.5 folder with the real dimensions of a published member.
//   npx tsx tools/make_shape_twin.ts --shape vila1.5-3b --out models-local/vila1.5-3b-twin [--seed 0]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { writeRandomCheckpoint } from '../src/io/random_checkpoint.js';
import { TWIN_SHAPES } from '../src/model/shapes.js';

const { values } = parseArgs({ options: { shape: { type: 'string', default: 'vila1.5-3b' }, out: { type: 'string' }, seed: { type: 'string', default: '0' } } });
const shape = TWIN_SHAPES[values.shape!];
if (shape === undefined || values.out === undefined) {
  console.error(`usage: make_shape_twin.ts --shape ${Object.keys(TWIN_SHAPES).join('|')} --out DIR [--seed N]`);
  process.exit(2);
}
const t0 = Date.now();
writeRandomCheckpoint({
  out: values.out,
  shape,
  seed: Number(values.seed),
  tokenizerDir: join(import.meta.dirname, '../test/fixtures/tinychat-awq/llm'),
  onProgress: (done, total, what) => process.stderr.write(`\r[${done}/${total}] ${what}`.padEnd(80)),
});
process.stderr.write(`\nwrote ${values.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
