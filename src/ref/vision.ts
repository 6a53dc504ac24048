// Reference vision ops: the SigLIP patch convolution and VILA's 2x2 token merge.

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { floatReader } from '../tensor.js';
import { dims2, expectLength, expectShape } from './check.js';

/**
 * Conv2d with kernel = stride = patch and no padding (SiglipVisionEmbeddings.patch_embedding):
 * pixels (c,h,w) · weight (d,c,p,p) + bias (d) → out (gh·gw, d), patches in row-major order
 * (flatten(2).transpose(1,2) upstream). Pixels past the last whole patch are ignored.
 */
export function patch_embed({ out, pixels, weight, bias, patch }: OpArgs['patch_embed']): void {
  if (pixels.shape.length !== 3 || weight.shape.length !== 4) {
    throw new InputError(`patch_embed: pixels must be (c,h,w) and weight (d,c,p,p)`);
  }
  const [c, h, w] = pixels.shape as [number, number, number];
  const d = weight.shape[0]!;
  expectShape('patch_embed', 'weight', weight, [d, c, patch, patch]);
  expectLength('patch_embed', 'bias', bias, d);
  const gh = Math.floor(h / patch);
  const gw = Math.floor(w / patch);
  expectShape('patch_embed', 'out', out, [gh * gw, d]);
  const wr = floatReader(weight);
  const br = floatReader(bias);
  const px = pixels.data;
  const kernel = new Float64Array(c * patch * patch);
  for (let o = 0; o < d; o++) {
    for (let i = 0; i < kernel.length; i++) kernel[i] = wr(o * kernel.length + i);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        let s = 0;
        for (let ch = 0; ch < c; ch++) {
          for (let ky = 0; ky < patch; ky++) {
            const row = ch * h * w + (gy * patch + ky) * w + gx * patch;
            const kr = (ch * patch + ky) * patch;
            for (let kx = 0; kx < patch; kx++) s += px[row + kx]! * kernel[kr + kx]!;
          }
        }
        out.data[(gy * gw + gx) * d + o] = s + br(o);
      }
    }
  }
}

/**
 * VILA DownSampleBlock (llava/model/multimodal_projector/base_projector.py, flat_square then the
 * reshape/permute pair): a g×g grid padded to even size with zeros (a row at the bottom, then a
 * column at the right), merged 2×2 with the output in COLUMN-major order: token t = j·h + i
 * (h = g'/2; i row-pair, j column-pair) = [x(2i,2j), x(2i,2j+1), x(2i+1,2j), x(2i+1,2j+1)].
 */
export function downsample_2x2({ out, x, grid }: OpArgs['downsample_2x2']): void {
  const [n, c] = dims2('downsample_2x2', 'x', x);
  if (n !== grid * grid) throw new InputError(`downsample_2x2: ${n} tokens do not form a ${grid}×${grid} grid`);
  const half = Math.ceil(grid / 2);
  expectShape('downsample_2x2', 'out', out, [half * half, 4 * c]);
  const cells: Array<[number, number]> = [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ];
  for (let j = 0; j < half; j++) {
    for (let i = 0; i < half; i++) {
      const t = j * half + i;
      cells.forEach(([dy, dx], b) => {
        const y = 2 * i + dy;
        const xx = 2 * j + dx;
        const dst = out.data.subarray(t * 4 * c + b * c, t * 4 * c + (b + 1) * c);
        if (y < grid && xx < grid) dst.set(x.data.subarray((y * grid + xx) * c, (y * grid + xx + 1) * c));
        else dst.fill(0);
      });
    }
  }
}
