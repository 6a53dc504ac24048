// matmul_q4 cases: int4 weights in the TinyChat v2 layout at the real Llama shapes (3B 2560/6912,
// 8B 4096/14336), decode (m = 1) and prefill rows, and ragged ones (odd group counts, n not a
// multiple of 128, group 64). The fast kernel quantizes activations to int16 per block and skips
// the fp16 rounding of each dequantized weight that the exact op applies (spec/awq.md §2.4):
// that rounding alone is ~2e-4 relative L2, hence NMSE ≤ 2e-7 against the exact reference.
// test/ops/wasm_q4.test.ts checks the kernel tightly against its own oracle as well.

import { randomQ4 } from '../quant/q4.js';
import { caseOf, fill, randn, type OpCase } from './harness.js';

function q4Case(label: string, m: number, k: number, n: number, groupSize: number, bias: boolean): OpCase {
  return caseOf({
    name: `matmul_q4 ${label} m=${m} k=${k} n=${n} g=${groupSize}${bias ? ' +bias' : ''}`,
    op: 'matmul_q4',
    make: (rng, alloc) => ({
      x: fill(alloc([m, k]), rng),
      w: randomQ4(rng, n, k, groupSize),
      bias: bias ? { dtype: 'f32', shape: [n], data: randn(rng, n, 0.1) } : undefined,
      out: alloc([m, n]),
    }),
    nmse: 2e-7,
    flops: 2 * m * k * n,
    // nibbles + f32 scales and zeros (as placed) + activations
    bytes: (n * k) / 2 + 8 * n * (k / groupSize) + 4 * (m * k + m * n),
  });
}

export const MATMUL_Q4_CASES: OpCase[] = [
  q4Case('ragged', 3, 384, 100, 128, true),
  q4Case('ragged', 5, 192, 12, 64, false),
  q4Case('ragged', 2, 512, 36, 256, true),
  q4Case('llama gate decode', 1, 2560, 6912, 128, false),
  q4Case('llama down decode', 1, 6912, 2560, 128, false),
  q4Case('llama-8b square decode', 1, 4096, 4096, 128, false),
  q4Case('llama prefill', 24, 2560, 2560, 128, false),
];
