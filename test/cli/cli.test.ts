// The `vila` command's contract, run as a process from the built dist/ (npm test builds first):
// JSON shapes of logits / generate / inspect, the positional prompt, streaming output, and a
// one-line error naming the file and field at fault with a non-zero exit code.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGolden, relL2 } from '../model/goldens.js';

const root = join(import.meta.dirname, '../..');
const fixture = join(root, 'test/fixtures/tiny-vila');
const image = join(root, 'test/fixtures/images/gradient_97x61.png');

function vila(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/vila.js'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A writable copy of the tiny fixture to break in one place. */
function copyFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vila-cli-'));
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

function expectError(r: { code: number; stdout: string; stderr: string }, ...parts: string[]): void {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines.length).toBe(1);
  for (const p of parts) expect(r.stderr).toContain(p);
}

describe('vila CLI', () => {
  const golden = readGolden(join(fixture, 'expected.json'));
  const oneImage = golden.cases.find((c) => c.name === 'one_image')!;

  it('logits --json prints input ids (−200 for images) and the last logits', () => {
    const r = vila('logits', '--model', fixture, '--image', image, '--json', '--prompt', oneImage.prompt);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { input_ids: number[]; logits: number[] };
    expect(Object.keys(out)).toEqual(['input_ids', 'logits']);
    expect(out.input_ids).toEqual(oneImage.input_ids);
    expect(out.input_ids).toContain(-200);
    expect(relL2(oneImage.logits, out.logits)).toBeLessThan(1e-4);
  });

  it('generate takes the prompt positionally and prints JSON with --json', () => {
    const r = vila('generate', '--model', fixture, '--image', image, '--temperature', '0', '--max-new-tokens', '8', '--json', oneImage.prompt);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { output_ids: number[]; text: string };
    expect(out.output_ids).toEqual(oneImage.greedy_ids);
    expect(typeof out.text).toBe('string');
  });

  it('generate streams the same text without --json', () => {
    const json = JSON.parse(vila('generate', '--model', fixture, '--temperature', '0', '--max-new-tokens', '6', '--json', 'Hello').stdout) as { text: string };
    const plain = vila('generate', '--model', fixture, '--temperature', '0', '--max-new-tokens', '6', 'Hello');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(`${json.text}\n`);
  });

  it('sampling with a seed is reproducible', () => {
    const args = ['generate', '--model', fixture, '--temperature', '1', '--top-k', '20', '--top-p', '0.9', '--seed', '42', '--max-new-tokens', '6', '--json', 'Hi'];
    const a = JSON.parse(vila(...args).stdout) as { output_ids: number[] };
    const b = JSON.parse(vila(...args).stdout) as { output_ids: number[] };
    expect(a.output_ids).toEqual(b.output_ids);
    expect(a.output_ids.length).toBeGreaterThan(0);
  });

  it('decodes as upstream by default, and upright / on white when asked', () => {
    const media = join(root, 'test/fixtures/media');
    const logits = (...args: string[]): number[] => {
      const r = vila('logits', '--model', fixture, '--json', ...args, 'What is it?');
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { logits: number[] }).logits;
    };
    const exif = join(media, 'exif6_64x48.jpg');
    expect(relL2(logits('--image', exif), logits('--image', exif, '--exif-orientation'))).toBeGreaterThan(1e-4);
    const rgba = join(media, 'rgba_97x61.png');
    expect(relL2(logits('--image', rgba), logits('--image', rgba, '--alpha', 'white'))).toBeGreaterThan(1e-4);
    const rgb = join(media, 'rgb_97x61.png'); // no alpha, no EXIF: the options change nothing
    expect(logits('--image', rgb, '--alpha', 'white', '--exif-orientation')).toEqual(logits('--image', rgb));
  });

  it('inspect summarises the folder', () => {
    const text = vila('inspect', '--model', fixture);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('SigLIP');
    expect(text.stdout).toContain('mlp_downsample');
    const json = JSON.parse(vila('inspect', '--model', fixture, '--json').stdout) as { parameters: number; parts: { part: string; dtypes: Record<string, number> }[] };
    expect(json.parts.map((p) => p.part)).toEqual(['llm', 'vision_tower', 'mm_projector']);
    expect(json.parts.every((p) => Object.keys(p.dtypes).join() === 'BF16')).toBe(true);
    expect(json.parameters).toBeGreaterThan(0);
  });

  it('inspect counts int4 weights (4 per int16 word), names the AWQ layout, and reads a .pt folder', () => {
    const awq = join(import.meta.dirname, '../fixtures/tinychat-awq');
    const text = vila('inspect', '--model', awq);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('int4 AWQ: 21 linears, TinyChat v2');
    const json = JSON.parse(vila('inspect', '--model', awq, '--json').stdout) as { parts: { part: string; parameters: number; dtypes: Record<string, number> }[] };
    const llm = json.parts.find((p) => p.part === 'llm')!;
    // 3 layers × (q 256·256 + k, v 128·256 + o 256·256 + gate, up, down 768·256) int4 weights
    expect(llm.dtypes['I4']).toBe(3 * (256 * 256 * 2 + 128 * 256 * 2 + 768 * 256 * 3));
    expect(llm.dtypes['I16']).toBeUndefined();
  });

  it('names a missing tensor and its folder', () => {
    const dir = copyFixture();
    const index = JSON.parse(readFileSync(join(dir, 'llm/model.safetensors.index.json'), 'utf8'));
    // Rewrite shard 2 without one tensor and drop it from the index.
    const victim = 'model.norm.weight';
    delete index.weight_map[victim];
    writeFileSync(join(dir, 'llm/model.safetensors.index.json'), JSON.stringify(index));
    const st = join(dir, 'llm/model-00002-of-00002.safetensors');
    rewriteWithout(st, victim);
    expectError(vila('logits', '--model', dir, '--json', 'Hi'), `missing tensor '${victim}'`, join(dir, 'llm'));
  });

  it('names a tensor of the wrong shape and its file', () => {
    const dir = copyFixture();
    // The config now promises a wider MLP than the stored fc1 weight has.
    const vcfg = JSON.parse(readFileSync(join(dir, 'vision_tower/config.json'), 'utf8'));
    vcfg.intermediate_size += 1;
    writeFileSync(join(dir, 'vision_tower/config.json'), JSON.stringify(vcfg));
    expectError(vila('logits', '--model', dir, '--json', 'Hi'), 'mlp.fc1.weight', 'has shape', 'vision_tower/model.safetensors');
  });

  it('names a malformed safetensors file', () => {
    const dir = copyFixture();
    const st = join(dir, 'mm_projector/model.safetensors');
    const bytes = readFileSync(st);
    writeFileSync(st, bytes.subarray(0, bytes.length - 100));
    expectError(vila('logits', '--model', dir, '--json', 'Hi'), 'mm_projector/model.safetensors', 'past the end');
  });

  it('names an unreadable image', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'vila-img-')), 'not-an-image.png');
    writeFileSync(bad, 'this is text, not a PNG');
    expectError(vila('logits', '--model', fixture, '--image', bad, '--json', 'Hi'), 'not-an-image.png');
    expectError(vila('logits', '--model', fixture, '--image', '/nonexistent/x.jpg', '--json', 'Hi'), '/nonexistent/x.jpg');
  });

  it('names a config field with a bad value', () => {
    const dir = copyFixture();
    const cfg = JSON.parse(readFileSync(join(dir, 'llm/config.json'), 'utf8'));
    cfg.num_key_value_heads = 3;
    writeFileSync(join(dir, 'llm/config.json'), JSON.stringify(cfg));
    expectError(vila('logits', '--model', dir, '--json', 'Hi'), 'llm/config.json', 'num_key_value_heads');
  });

  it('rejects usage errors with exit code 2', () => {
    expect(vila('logits', '--model', fixture, '--json').code).toBe(2); // no prompt
    const mismatch = vila('logits', '--model', fixture, '--raw', '--image', image, '--json', 'no placeholder here');
    expectError(mismatch, '0 image placeholder(s) but 1 image(s)');
    expect(mismatch.code).toBe(2);
    expect(vila('logits', '--model', fixture, '--backend', 'nope', 'Hi').code).toBe(2);
  });
});

const bundled = existsSync(join(root, 'models/vila-shapes/config.json'));
describe('vila CLI with the bundled model (no --model)', () => {
  it('the bundled model is there', () => expect(bundled, 'models/vila-shapes/config.json').toBe(true));

  // The README's first command, word for word after `npm ci` (default sampling: temperature 0.2, seed 0).
  it('generate answers the README example correctly', () => {
    const r = vila('generate', '--image', join(root, 'examples/two-circles.png'), 'How many circles are there?');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('Two.');
  });

  it('generate --json: more README examples, greedy', () => {
    const ask = (img: string, q: string) => (JSON.parse(vila('generate', '--image', join(root, 'examples', img), '--temperature', '0', '--json', q).stdout) as { text: string }).text.trim();
    expect(ask('green-star.png', 'What shape is this?')).toBe('A star.');
    // "where" with no axis named is the model's weakest kind of question (15/19 held out): on this picture,
    // whose star sits 0.19 left of the centre (the data call 0.17 "left"), "Where is the star?" gets "At the top.".
    expect(ask('green-star.png', 'Is the star on the left or the right?')).toBe('On the left.');
    expect(ask('yellow-triangle.png', 'Where is the triangle?')).toBe('At the top.');
    expect(ask('three-shapes.png', 'What colour is the square?')).toBe('Purple.');
    expect(ask('three-shapes.png', 'How many shapes are there?')).toBe('Three.');
    expect(ask('big-and-small.png', 'Which is bigger, the circle or the square?')).toBe('The square.');
  });

  it('inspect describes the bundled model', () => {
    const json = JSON.parse(vila('inspect', '--json').stdout) as { parameters: number };
    expect(json.parameters).toBeGreaterThan(1_000_000);
  });
});


/** Rewrite a safetensors file without one tensor (offsets recomputed). */
function rewriteWithout(path: string, name: string): void {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const data = buf.subarray(8 + n);
  const parts: Buffer[] = [];
  const out: Record<string, unknown> = {};
  let offset = 0;
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') out[k] = v;
    else if (k !== name) {
      const bytes = data.subarray(v.data_offsets[0], v.data_offsets[1]);
      out[k] = { ...v, data_offsets: [offset, offset + bytes.length] };
      parts.push(bytes);
      offset += bytes.length;
    }
  }
  const json = Buffer.from(JSON.stringify(out));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, ...parts]));
}
