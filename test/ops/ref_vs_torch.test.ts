// Every reference op against PyTorch's own functions (tools/op_goldens.py): the reference is the
// oracle for the fast backends, so it is itself checked against an independent implementation.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OpArgs, OpName } from '../../src/backend.js';
import { run } from '../../src/backend.js';
import { createRefBackend } from '../../src/ref/index.js';
import { relL2 } from '../../src/compare.js';
import { zeros, type F32Tensor, type Tensor } from '../../src/tensor.js';

type Input = [number[], number[], string?];
interface Case {
  name: string;
  op: OpName;
  inputs: Record<string, Input>;
  expected: number[];
  params: Record<string, unknown>;
}

const golden = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/ops/torch_ops.json'), 'utf8')) as { cases: Case[] };

function tensor([values, shape, dtype]: Input): Tensor {
  if (dtype === 'bf16' || dtype === 'f16') return { dtype, shape, data: Uint16Array.from(values) };
  return { dtype: 'f32', shape, data: Float32Array.from(values) };
}

function outShape(c: Case): number[] {
  const x = c.inputs.x ?? c.inputs.q ?? c.inputs.gate;
  switch (c.op) {
    case 'matmul':
      return [x![1][0]!, c.inputs.w![1][0]!];
    case 'patch_embed': {
      const [, h, w] = c.inputs.pixels![1] as [number, number, number];
      const p = c.params.patch as number;
      return [Math.floor(h / p) * Math.floor(w / p), c.inputs.weight![1][0]!];
    }
    case 'downsample_2x2': {
      const g = c.params.grid as number;
      return [Math.ceil(g / 2) ** 2, 4 * x![1][1]!];
    }
    default:
      return x![1];
  }
}

describe('reference ops vs PyTorch', () => {
  const be = createRefBackend();
  for (const c of golden.cases) {
    it(c.name, () => {
      const args: Record<string, unknown> = { ...c.params };
      for (const [k, v] of Object.entries(c.inputs)) args[k] = tensor(v);
      if (c.op === 'rope') args.positions = Int32Array.from(c.params.positions as number[]);
      let out: F32Tensor;
      if (c.op === 'rope') out = args.x as F32Tensor;
      else {
        out = zeros(outShape(c));
        args.out = out;
      }
      run(be, c.op, c.name, args as unknown as OpArgs[typeof c.op]);
      expect(out.data.length).toBe(c.expected.length);
      // float32 PyTorch against float64 sums: agreement to a few float32 ulps.
      expect(relL2(c.expected, out.data)).toBeLessThan(1e-6);
      if (c.op === 'downsample_2x2') expect(Array.from(out.data)).toEqual(c.expected); // pure data movement: exact
    });
  }
});
