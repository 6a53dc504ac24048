// A Llama-3-VILA1.5-8B-shaped int4 model (8.5 B parameters; ~7 GB in wasm memory with the fp16
// embeddings, lm_head and vision tower) is more than one 4 GiB WebAssembly memory can hold: it
// must spread over several and run. Random weights of the real shape, built straight into wasm
// memory (no second copy in the JavaScript heap); ~45 s and ~8 GB of RAM on the 2-core machine.

import { describe, expect, it } from 'vitest';
import { runModelBench } from '../../src/bench/model.js';

describe('Llama-3-VILA1.5-8B shape, int4', () => {
  it('loads over several memories and decodes', () => {
    const r = runModelBench({ shape: 'llama-3-vila1.5-8b', backend: 'wasm', threads: 2, tokens: 2, promptTokens: 4, skipImage: true });
    expect(r.params).toBeGreaterThan(8e9);
    expect(r.decode_tok_s).toBeGreaterThan(0);
    expect(r.prefill_tok_s).toBeGreaterThan(0);
    // One copy of the weights: well under twice their ~7 GB
    expect(r.peak_rss_mb).toBeLessThan(11_000);
    console.log(`8B shape: decode ${r.decode_tok_s.toFixed(2)} tok/s, prefill ${r.prefill_tok_s.toFixed(2)} tok/s, peak RSS ${r.peak_rss_mb.toFixed(0)} MB`);
  }, 300_000);
});
