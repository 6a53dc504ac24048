// Every op of the WebAssembly backend against the reference on fresh seeded inputs at real model
// shapes: sentinels, NaN/infinities, NMSE tolerance; and 1 vs 2 threads bit for bit.

import { afterAll, describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/ref/index.js';
import { createWasmBackend } from '../../src/wasm/backend.js';
import { ALL_CASES } from '../../src/opcheck/cases.js';
import { judge, runCase, sameBits } from '../../src/opcheck/harness.js';

const ref = createRefBackend();
const one = createWasmBackend({ threads: 1, flavor: 'simd' });
const two = createWasmBackend({ threads: 2, flavor: 'simd' });
afterAll(() => {
  one.close();
  two.close();
});

describe('wasm backend vs reference', () => {
  ALL_CASES.forEach((c, i) => {
    it(c.name, () => {
      const seed = 1000 + i;
      const want = runCase(ref, c, seed);
      const got1 = runCase(one, c, seed);
      expect(one.native(c.op, got1.args as never), 'runs a wasm kernel, not the reference stand-in').toBe(true);
      expect(judge(c, want.outputs, got1.outputs)).toBeUndefined();
      const got2 = runCase(two, c, seed);
      expect(sameBits(got1.outputs, got2.outputs)).toBeUndefined();
    });
  });
});
