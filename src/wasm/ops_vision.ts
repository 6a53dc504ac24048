// patch_embed and downsample_2x2 on the WebAssembly backend (wasm/vision.ts).
// patch_embed = patch_rows_f32 (pixels → (patches, c·p·p) rows in scratch) then the matmul
// export with the conv weight, placed once with its stored bytes, read as (d, c·p·p).

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { OpCall } from './call.js';
import { execMatmul, placeF32, placeRaw } from './ops_matmul.js';
import { shardFor } from './ops_shard.js';
import { expectElements, type WasmRuntime } from './runtime.js';

export function patch_embed(rt: WasmRuntime, { out, pixels, weight, bias, patch: p }: OpArgs['patch_embed']): void {
  if (pixels.shape.length !== 3 || weight.shape.length !== 4) throw new InputError(`patch_embed: pixels must be (c,h,w) and weight (d,c,p,p)`);
  const [c, h, w] = pixels.shape as [number, number, number];
  const d = weight.shape[0]!;
  if (weight.shape[1] !== c || weight.shape[2] !== p || weight.shape[3] !== p) throw new InputError(`patch_embed: weight has shape [${weight.shape}], expected [${d}, ${c}, ${p}, ${p}]`);
  const k = c * p * p;
  const np = Math.floor(h / p) * Math.floor(w / p);
  expectElements('patch_embed', 'pixels', pixels.data, c * h * w);
  expectElements('patch_embed', 'weight', weight.data, d * k);
  expectElements('patch_embed', 'bias', bias.data, d);
  if (out.shape.length !== 2 || out.shape[0] !== np || out.shape[1] !== d) throw new InputError(`patch_embed: out has shape [${out.shape}], expected [${np}, ${d}]`);
  expectElements('patch_embed', 'out', out.data, np * d);
  const wp = placeRaw(rt, weight);
  const bp = placeF32(rt, bias, wp.shard);
  const call = new OpCall(wp.shard);
  const pp = call.in(pixels.data);
  const op = call.out(out.data);
  const rows = call.scratch(4 * np * k);
  rt.exec(wp.shard, 'patch_rows_f32', [rows, pp, c, h, w, p], np, 1, np * k);
  execMatmul(rt, call, weight.dtype, op, rows, wp.ptr, bp, np, k, d);
  call.finish();
}

export function downsample_2x2(rt: WasmRuntime, { out, x, grid }: OpArgs['downsample_2x2']): void {
  if (x.shape.length !== 2 || x.shape[0] !== grid * grid) throw new InputError(`downsample_2x2: x [${x.shape}] is not a ${grid}×${grid} grid of tokens`);
  const c = x.shape[1]!;
  expectElements('downsample_2x2', 'x', x.data, grid * grid * c);
  const half = Math.ceil(grid / 2);
  if (out.shape.length !== 2 || out.shape[0] !== half * half || out.shape[1] !== 4 * c) throw new InputError(`downsample_2x2: out has shape [${out.shape}], expected [${half * half}, ${4 * c}]`);
  expectElements('downsample_2x2', 'out', out.data, half * half * 4 * c);
  const shard = shardFor(rt, undefined, out.data);
  const call = new OpCall(shard);
  const xp = call.in(x.data);
  const op = call.out(out.data);
  rt.exec(shard, 'downsample_2x2_f32', [op, xp, grid, c], half * half, 1, 4 * half * half * c);
  call.finish();
}
