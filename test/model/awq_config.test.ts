import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseLlamaConfig } from '../../src/model/config.js';

const base = JSON.parse(readFileSync('test/fixtures/tinychat-awq/llm/config.json', 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'vila-awqcfg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const withQ = (name: string, q: unknown): string => {
  const p = join(tmp, `${name}.json`);
  writeFileSync(p, JSON.stringify({ ...base, quantization_config: q }));
  return p;
};

describe('LlamaConfig.awqGroupSize (spec/awq.md §2.1: not derivable from the shapes)', () => {
  it('is absent without quantization_config (the loader then uses 128)', () => {
    expect(parseLlamaConfig('test/fixtures/tinychat-awq/llm/config.json').awqGroupSize).toBeUndefined();
  });
  it('comes from group_size or llm-awq q_group_size', () => {
    expect(parseLlamaConfig(withQ('hf', { quant_method: 'awq', bits: 4, group_size: 64 })).awqGroupSize).toBe(64);
    expect(parseLlamaConfig(withQ('awq', { w_bit: 4, q_group_size: 128 })).awqGroupSize).toBe(128);
  });
  it('refuses a non-positive group size, naming the field', () => {
    expect(() => parseLlamaConfig(withQ('neg', { group_size: -1 }))).toThrow(ConfigError);
    expect(() => parseLlamaConfig(withQ('neg2', { group_size: -1 }))).toThrow(/quantization_config\.group_size/);
  });
});
