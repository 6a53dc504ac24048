// Shape twins of the five published members, written with zeros as sparse holes (no disk space),
// checked against the published facts in spec/vila.md (§1 files and shards, §2 towers, §4
// projector sizes, §7 LLM dimensions, spec/awq.md §2.1 int4 buffers), then loaded as configs,
// inspected, and their tokenizers loaded.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openWeights } from '../../src/io/weights.js';
import { loadVilaConfig } from '../../src/model/config.js';
import { inspectModel } from '../../src/model/inspect.js';
import { loadTokenizer } from '../../src/text/load.js';
import { TWIN_MEMBERS, type TwinMemberName } from '../../src/twin/members.js';

const root = mkdtempSync(join(tmpdir(), 'vila-twins-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// spec §4 (projector 4C → D), §7 (LLM), §1 (shards), §2 (tower width and token grid)
const PUBLISHED: Record<TwinMemberName, { c4: number; d: number; layers: number; kv: number; vocab: number; shards: number; tower: string; bos: number | null }> = {
  'vila1.5-3b': { c4: 4608, d: 2560, layers: 32, kv: 20, vocab: 32000, shards: 2, tower: 'SiglipVisionModel', bos: 1 },
  'vila1.5-3b-s2': { c4: 9216, d: 2560, layers: 32, kv: 20, vocab: 32000, shards: 2, tower: 'SiglipVisionModel', bos: 1 },
  'llama-3-vila1.5-8b': { c4: 4608, d: 4096, layers: 32, kv: 8, vocab: 128256, shards: 4, tower: 'SiglipVisionModel', bos: 128000 },
  'vila1.5-13b': { c4: 4608, d: 5120, layers: 40, kv: 40, vocab: 32000, shards: 6, tower: 'SiglipVisionModel', bos: 1 },
  'vila1.5-40b': { c4: 12800, d: 7168, layers: 60, kv: 8, vocab: 64000, shards: 15, tower: 'InternVisionModel', bos: null },
};

async function twin(member: TwinMemberName, awq: boolean): Promise<string> {
  const out = join(root, `${member}${awq ? '-awq' : ''}`);
  const code = await main(['make-twin', '--like', member, '--fill', 'zeros', '--out', out, ...(awq ? ['--awq'] : [])]);
  expect(code).toBe(0);
  return out;
}

const diskBytes = (dir: string): number =>
  readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((a, e) => a + statSync(join(e.parentPath, e.name)).blocks * 512, 0);

describe.each(TWIN_MEMBERS.map((m) => [m]))('make-twin --like %s', (member) => {
  const p = PUBLISHED[member];

  it('writes the published layout: configs, sharded llm/, tower and projector shapes', async () => {
    const dir = await twin(member, false);
    const llmFiles = readdirSync(join(dir, 'llm'));
    const shards = llmFiles.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    expect(shards).toHaveLength(p.shards);
    expect(shards).toContain(`model-${String(p.shards).padStart(5, '0')}-of-${String(p.shards).padStart(5, '0')}.safetensors`);
    const index = JSON.parse(readFileSync(join(dir, 'llm/model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    expect(Object.keys(index.weight_map)).toHaveLength(9 * p.layers + 3);
    const tower = JSON.parse(readFileSync(join(dir, 'vision_tower/config.json'), 'utf8')) as { architectures: string[] };
    expect(tower.architectures).toEqual([p.tower]);

    const proj = openWeights(join(dir, 'mm_projector'));
    expect(proj.info('layers.1.weight').shape).toEqual([p.c4]);
    expect(proj.info('layers.2.weight').shape).toEqual([p.d, p.c4]);
    expect(proj.info('layers.4.weight').shape).toEqual([p.d, p.d]);
    proj.close();
    const llm = openWeights(join(dir, 'llm'));
    expect(llm.info('model.embed_tokens.weight').shape).toEqual([p.vocab, p.d]);
    expect(llm.info('model.layers.0.self_attn.k_proj.weight').shape).toEqual([p.kv * 128, p.d]);
    expect(llm.info(`model.layers.${p.layers - 1}.mlp.down_proj.weight`).storedDtype).toBe('BF16');
    llm.close();
    const vision = openWeights(join(dir, 'vision_tower'));
    if (p.tower === 'InternVisionModel') {
      expect(vision.info('embeddings.position_embedding').shape).toEqual([1, 1025, 3200]);
      expect(vision.info('encoder.layers.44.attn.qkv.weight').shape).toEqual([9600, 3200]);
    } else {
      expect(vision.info('vision_model.embeddings.position_embedding.weight').shape).toEqual([729, 1152]);
      expect(vision.has('vision_model.head.probe')).toBe(true);
    }
    vision.close();
    expect(diskBytes(dir)).toBeLessThan(20e6); // sparse: gigabytes of zeros take no space

    const cfg = loadVilaConfig(dir);
    expect(cfg.llm.hiddenSize).toBe(p.d);
    expect(cfg.llm.kvHeads).toBe(p.kv);
    const summary = inspectModel(dir);
    expect(summary.parts.map((x) => x.part)).toEqual(['llm', 'vision_tower', 'mm_projector']);
    // The published forms: tokenizer.model (SentencePiece: Llama 2, Yi), tokenizer.json (Llama 3)
    expect(llmFiles).toContain(member === 'llama-3-vila1.5-8b' ? 'tokenizer.json' : 'tokenizer.model');
    const tok = await loadTokenizer(join(dir, 'llm'));
    const ids = tok.encode('Hello world');
    if (p.bos === null) {
      // Yi (40b): no BOS; <|im_end|> is id 7, the LLM config's eos_token_id
      expect(ids[0]).not.toBe(1);
      expect(tok.encode('<|im_end|>')).toEqual([7]);
      expect(cfg.llm.eosTokenId).toBe(7);
    } else {
      expect(ids[0]).toBe(p.bos);
      // the real vocabularies: "▁Hello", "▁world" in Llama 2; "Hello", "Ġworld" in Llama 3
      expect(ids.slice(1)).toEqual(p.bos === 1 ? [15043, 3186] : [9906, 1917]);
    }
  }, 120_000);

  it('--awq writes the TinyChat v2 checkpoint the -AWQ repo holds', async () => {
    const dir = await twin(member, true);
    const pts = readdirSync(join(dir, 'llm')).filter((f) => f.endsWith('.pt'));
    expect(pts).toHaveLength(1);
    expect(pts[0]).toMatch(/-w4-g128-awq-v2\.pt$/);
    const llm = openWeights(join(dir, 'llm'));
    // spec/awq.md §2.1: qweight int16 [N/4, K]; scales, scaled_zeros fp16 [8·ceil(K/128/8), N]
    const ffn = loadVilaConfig(dir).llm.intermediateSize;
    expect(llm.info('model.layers.0.mlp.down_proj.qweight')).toMatchObject({ storedDtype: 'I16', shape: [p.d / 4, ffn] });
    expect(llm.info('model.layers.0.mlp.down_proj.scales')).toMatchObject({ storedDtype: 'F16', shape: [8 * Math.ceil(ffn / 128 / 8), p.d] });
    expect(llm.info('model.layers.0.mlp.down_proj.scaled_zeros').shape).toEqual([8 * Math.ceil(ffn / 128 / 8), p.d]);
    expect(llm.info('model.norm.weight').storedDtype).toBe('F16');
    llm.close();
    const summary = inspectModel(dir);
    expect(summary.parts[0]!.int4).toEqual({ linears: 7 * p.layers, layouts: ['TinyChat v2'] });
  }, 180_000);
});
