// The benchmark chart is well-formed SVG (balanced tags, escaped text, finite coordinates) and
// shows our figures beside the ceilings and the peers'; the summary pools passes by median.

import { describe, expect, it } from 'vitest';
import { chartGroups, escapeXml, renderSvg } from '../../bench/chart.js';
import { markdown, summarize, type Report } from '../../bench/summary.js';

/** Checks XML well-formedness the way a parser would for this subset: tags nest, attributes quote, entities are known. */
function wellFormed(svg: string): string | undefined {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    const text = svg.slice(last, m.index);
    if (/[<>]/.test(text)) return `stray markup before offset ${m.index}: ${text.slice(0, 40)}`;
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) return `bad entity in ${text.slice(0, 40)}`;
    last = m.index + m[0].length;
    const [, close, name, , self] = m;
    if (close === '/') {
      if (stack.pop() !== name) return `</${name}> closes the wrong element`;
    } else if (self !== '/') stack.push(name!);
  }
  if (svg.slice(last).trim() !== '') return 'text after the root element';
  return stack.length === 0 ? undefined : `unclosed <${stack.join('>, <')}>`;
}

const machine = { node: 'v20', cpu: 'cpu', cores: 2, loadavg: [0, 0, 0], date: '2026-11-26T00:00:00Z' };
const ops = (threads: number, ms: number): Report => ({
  ...machine, bench: 'ops', backend: 'wasm', flavor: 'simd', threads, kernels: 'abc', l3_bytes: 32 << 20,
  ceilings: [{ threads: 1, fma_gflops: 50, read_gbs: 20 }, ...(threads === 2 ? [{ threads: 2, fma_gflops: 100, read_gbs: 28 }] : [])],
  cases: [
    { name: 'matmul bf16 llama gate decode m=1 k=2560 n=6912', op: 'matmul', native: true, rows: 1, copies: 4, ms, min_ms: ms, max_ms: ms, samples: 10, gflops: 10, gbs: 10, fma_frac: 0.2, read_frac: 0.5, suspect: false },
    { name: 'matmul_q4 <&> k=4096 n=4096 m=1', op: 'matmul_q4', native: false, rows: 1, copies: 1, ms, min_ms: ms, max_ms: ms, samples: 3, gflops: 1, gbs: 1, fma_frac: 0.02, read_frac: 0.05, suspect: false },
  ],
});
const model = (threads: number, tok: number): Report => ({
  ...machine, bench: 'model', shape: 'llama-ref', backend: 'wasm', flavor: 'simd', threads, kernels: 'abc', params: 1e9,
  llm_build_s: 1, vision_build_s: 0, image_first_s: null, image_s: null, image_tokens: null, image_size: null, llm_upload_s: 1,
  prompt_tokens: 128, prefill_s: 1, prefill_tok_s: 128, decode_tokens: 16, decode_ms: [1000 / tok], decode_tok_s: tok, peak_rss_mb: 900,
});

describe('benchmark chart', () => {
  const summary = summarize([ops(1, 2), ops(1, 4), ops(1, 3), ops(2, 1), model(1, 5), model(2, 7)]);

  it('pools passes by their median', () => {
    expect(summary.ops[0]!.byThreads[1]!.ms).toBe(3);
    expect(summary.ceilings[2]!.fma_gflops).toBe(100);
    expect(summary.models[0]!.byThreads[2]!.decode_tok_s).toBe(7);
    expect(markdown(summary, [1, 2])).toContain('| llama-ref (wasm) | 2 |');
  });

  it('writes well-formed SVG with our bars beside the ceilings and the peers', () => {
    const svg = renderSvg('title <x> & y', 'sub "quoted"', chartGroups(summary));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(wellFormed(svg)).toBeUndefined();
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(svg).toContain('llama.cpp Q4_0');
    expect(svg).toContain('C 128-bit read');
    expect(svg).toContain('&lt;&amp;&gt;');
    expect(svg).toContain('int4 GEMV M=1');
  });

  it('the well-formedness check itself catches broken markup', () => {
    expect(wellFormed('<svg><g></svg>')).toBeDefined();
    expect(wellFormed('<svg><text>a & b</text></svg>')).toBeDefined();
    expect(wellFormed(`<svg><text>${escapeXml('a & <b>')}</text></svg>`)).toBeUndefined();
  });
});
