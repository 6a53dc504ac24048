// `vila bench ops` and `vila bench model` as processes from the built dist/ (npm test builds
// first), on small work: the JSON they print has the documented keys and positive figures.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

function vila(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/vila.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const positive = (x: unknown): void => {
  expect(typeof x).toBe('number');
  expect(x as number).toBeGreaterThan(0);
  expect(Number.isFinite(x as number)).toBe(true);
};

describe('vila bench', () => {
  it('ops --json --filter: the selected cases and the same-run ceilings for 1 and 2 threads', () => {
    const r = vila('bench', 'ops', '--json', '--filter', 'matmul f32 ragged', '--threads', '2', '--time', '20');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & { ceilings: Record<string, unknown>[]; cases: Record<string, unknown>[] };
    for (const k of ['bench', 'backend', 'flavor', 'threads', 'node', 'cpu', 'loadavg', 'kernels', 'ceilings', 'cases']) expect(out).toHaveProperty(k);
    expect(out.threads).toBe(2);
    expect(out.ceilings.map((c) => c.threads)).toEqual([1, 2]);
    for (const c of out.ceilings) {
      positive(c.fma_gflops);
      positive(c.read_gbs);
    }
    expect(out.cases.length).toBeGreaterThan(0);
    for (const c of out.cases) {
      expect(String(c.name)).toContain('matmul f32 ragged');
      for (const k of ['ms', 'gflops', 'gbs', 'fma_frac', 'read_frac', 'copies', 'samples']) positive(c[k]);
      expect(c).toMatchObject({ op: 'matmul', native: true, copies: 1 });
    }
  }, 20_000);

  it('model --shape tiny --json: image, prefill and decode figures, peak RSS and the machine', () => {
    const r = vila('bench', 'model', '--shape', 'tiny', '--tokens', '2', '--prompt-tokens', '8', '--threads', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['image_s', 'prefill_tok_s', 'decode_tok_s', 'peak_rss_mb', 'llm_build_s', 'image_first_s', 'llm_upload_s']) positive(out[k]);
    expect(out).toMatchObject({ bench: 'model', shape: 'tiny', backend: 'wasm', threads: 1, prompt_tokens: 8, decode_tokens: 2, node: process.version });
    expect(typeof out.flavor).toBe('string');
    expect(typeof out.cpu).toBe('string');
    expect((out.decode_ms as number[]).length).toBe(2);
  }, 20_000);

  it('model --backend ref runs the reference kernels and reports no wasm flavor', () => {
    const r = vila('bench', 'model', '--shape', 'tiny', '--backend', 'ref', '--tokens', '1', '--prompt-tokens', '4', '--skip-image', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ backend: 'ref', flavor: null, threads: 1, image_s: null, llm_upload_s: null });
    positive(out.decode_tok_s);
  }, 20_000);

  it('bad arguments are one-line errors with exit code 2', () => {
    const filter = vila('bench', 'ops', '--filter', 'no such case', '--time', '1');
    expect(filter.code).toBe(2);
    expect(filter.stderr).toContain('no op case matches');
    const shape = vila('bench', 'model', '--shape', 'vila99');
    expect(shape.code).toBe(2);
    const tokens = vila('bench', 'model', '--shape', 'tiny', '--tokens', '0');
    expect(tokens.code).toBe(2);
    expect(tokens.stderr).toContain('--tokens');
  }, 20_000);
});
