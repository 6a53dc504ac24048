// Run in a child process with `--experimental-wasm-relaxed-simd --no-liftoff` (Node 20) by
// test/ops/wasm_relaxed.test.ts: the relaxed build's kernels against their oracles. Prints one
// JSON line.

import { run } from '../../../src/backend.js';
import { difference } from '../../../src/compare.js';
import { randn } from '../../../src/opcheck/harness.js';
import { weight } from '../../../src/opcheck/cases.js';
import { randomQ4 } from '../../../src/quant/q4.js';
import { matmul } from '../../../src/ref/matmul.js';
import { matmul_q4, matmul_q4_q8act } from '../../../src/ref/matmul_q4.js';
import { seededRandom } from '../../../src/sampling.js';
import { f32, zeros } from '../../../src/tensor.js';
import { createWasmBackend } from '../../../src/wasm/backend.js';

const be = createWasmBackend({ threads: 2 });
const one = createWasmBackend({ threads: 1, flavor: 'relaxed' });
const result: Record<string, unknown> = { flavor: be.flavor, q4: [], matmul: [] };
for (const [m, k, n, g] of [[1, 2560, 128, 128], [5, 6912, 32, 128], [3, 1024, 36, 64]] as const) {
  const rng = seededRandom(m * 7 + n);
  const w = randomQ4(rng, n, k, g);
  const x = f32(randn(rng, m * k), [m, k]);
  const got = zeros([m, n]);
  const got1 = zeros([m, n]);
  const oracle = zeros([m, n]);
  const exact = zeros([m, n]);
  run(be, 'matmul_q4', 'q4', { out: got, x, w });
  run(one, 'matmul_q4', 'q4', { out: got1, x, w });
  matmul_q4_q8act({ out: oracle, x, w }, 127);
  matmul_q4({ out: exact, x, w });
  (result.q4 as unknown[]).push({
    shape: [m, k, n, g],
    vsOracle: difference(oracle.data, got.data).relL2,
    vsExact: difference(exact.data, got.data).relL2,
    threadsEqual: Buffer.from(got.data.buffer).equals(Buffer.from(got1.data.buffer)),
  });
}
for (const [m, k, n, dt] of [[9, 1301, 50, 'bf16'], [1, 2560, 64, 'f16'], [6, 1027, 61, 'f32']] as const) {
  const rng = seededRandom(m + k);
  const x = f32(randn(rng, m * k), [m, k]);
  const w = weight(rng, [n, k], dt);
  const got = zeros([m, n]);
  const want = zeros([m, n]);
  run(be, 'matmul', 'mm', { out: got, x, w });
  matmul({ out: want, x, w });
  (result.matmul as unknown[]).push({ shape: [m, k, n, dt], relL2: difference(want.data, got.data).relL2 });
}
be.close();
one.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
