#!/usr/bin/python3
"""Goldens for src/media/interpolate.ts from PyTorch's own F.interpolate (torch 1.13 CPU, float32):

  /usr/bin/python3 tools/interp_goldens.py test/fixtures/media/interpolate_torch.json

bicubic: x (1, C, H, W) contiguous -> F.interpolate(x, size=(oh, ow), mode='bicubic') (align_corners None = False),
as s2wrapper/core.py resizes the image to each scale. Stored as (C, H, W) -> (C, oh, ow).
area: the map S2 resizes is a permuted view of (tokens, C) (einops 'b (h w) c -> b c h w'), i.e. channels-last;
x (1, H, W, C) permuted to (1, C, H, W) -> F.interpolate(mode='area'), stored channels-last (H, W, C) -> (oh, ow, C).
Values are float32 written as shortest round-trip decimals.
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F


def f32list(t) -> list:
    return [float(repr(np.float32(v)).replace("np.float32(", "").rstrip(")")) for v in t.reshape(-1).tolist()]


def main() -> None:
    torch.manual_seed(2024)
    cases = []
    # (C, H, W, oh, ow): S2-like ratios (1/2, 2, 3), non-integer ratios, non-square, same size, a 1-pixel side
    for c, h, w, oh, ow in [(3, 12, 12, 24, 24), (2, 8, 8, 24, 24), (3, 24, 24, 12, 12), (2, 9, 7, 17, 13),
                            (2, 13, 11, 5, 8), (1, 6, 6, 6, 6), (1, 1, 5, 3, 9)]:
        x = torch.randn(1, c, h, w) * 1.5
        y = F.interpolate(x, size=(oh, ow), mode="bicubic")
        cases.append({"mode": "bicubic", "in_shape": [c, h, w], "out_shape": [c, oh, ow],
                      "x": f32list(x[0]), "expected": f32list(y[0])})
    # (H, W, C, oh, ow): exact 2x2 and 3x3 means, uneven windows, overlapping windows (oh > H), non-square
    for h, w, c, oh, ow in [(14, 14, 5, 7, 7), (21, 21, 4, 7, 7), (10, 10, 3, 7, 7), (15, 9, 2, 5, 4), (5, 5, 2, 7, 7),
                            (7, 7, 3, 7, 7)]:
        x = torch.randn(1, h, w, c)
        y = F.interpolate(x.permute(0, 3, 1, 2), size=(oh, ow), mode="area")
        cases.append({"mode": "area", "in_shape": [h, w, c], "out_shape": [oh, ow, c],
                      "x": f32list(x[0]), "expected": f32list(y.permute(0, 2, 3, 1)[0])})
    doc = {"produced_with": f"tools/interp_goldens.py, torch {torch.__version__} CPU, float32", "cases": cases}
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
