// Golden traces: every op's output recorded under its stable name, written as .npz, read back
// by us and by numpy, and compared op by op to find the first divergence.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model.js';
import { compareTraces, readNpz, recordTrace, writeNpz } from '../../src/trace.js';

const fixtures = join(import.meta.dirname, '../fixtures');
const model = await Model.load(join(fixtures, 'tiny-vila'));
const recorder = recordTrace();
const { logits } = await model.logits({ prompt: 'What is it?', images: [join(fixtures, 'images/gradient_97x61.png')] });
const trace = recorder.stop();
const path = join(mkdtempSync(join(tmpdir(), 'vila-trace-')), 'trace.npz');
writeNpz(path, trace);

const hasNumpy = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

describe('op traces', () => {
  it('records every op of the graph in order, ending with the logits', () => {
    const names = [...trace.keys()];
    expect(names[0]).toBe('image0.vision.patch_embed');
    expect(names).toContain('image0.projector.downsample');
    expect(names).toContain('llm.layers.1.attn.core');
    expect(names.at(-1)).toBe('llm.lm_head');
    expect(Array.from(trace.get('llm.lm_head')!.data)).toEqual(Array.from(logits));
  });

  it('round-trips through .npz', () => {
    const back = readNpz(path);
    expect([...back.keys()].sort()).toEqual([...trace.keys()].sort());
    for (const [name, t] of trace) {
      expect(back.get(name)!.shape).toEqual(t.shape);
      expect(Array.from(back.get(name)!.data)).toEqual(Array.from(t.data));
    }
  });

  it.skipIf(!hasNumpy)('is read by numpy (np.load) with the same values', () => {
    const script = `import numpy as np, sys
z = np.load(sys.argv[1])
print(len(z.files), z['llm.lm_head'].shape, repr(float(z['llm.lm_head'].astype(np.float64).sum())))`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const sum = Array.from(logits).reduce((a, v) => a + v, 0);
    const [count, , , pySum] = r.stdout.trim().split(/[ ,()]+/);
    expect(Number(count)).toBe(trace.size);
    expect(Number(pySum)).toBeCloseTo(sum, 6);
  });

  it('finds the first op where two traces diverge', () => {
    const other = new Map(trace);
    const victim = 'llm.layers.0.mlp.act';
    const t = trace.get(victim)!;
    const changed = t.data.slice();
    changed[3]! += 0.5;
    other.set(victim, { ...t, data: changed });
    const { diffs, firstAbove } = compareTraces(trace, other, 1e-4);
    expect(diffs.length).toBe(trace.size);
    expect(firstAbove?.name).toBe(victim);
    expect(compareTraces(trace, trace, 0).firstAbove).toBeUndefined();
  });
});
