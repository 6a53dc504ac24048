#!/usr/bin/python3
"""Loss curve (left axis, log scale) and validation accuracy (right axis, dots) of one or more training runs
as an SVG (no plotting library).

  /usr/bin/python3 tools/shapes/plot_training.py --out models/vila-shapes/training.svg \
      RUN_DIR[:label] [RUN_DIR[:label] ...]
"""
import argparse
import json
import math
import os

W, H, L, R, T, B = 760, 330, 60, 210, 30, 45
ACC_LO = 50.0  # the accuracy axis runs from ACC_LO% to 100%
COLOURS = ["#1f6feb", "#d1495b", "#2a9d8f", "#e9a03b"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("runs", nargs="+")
    args = ap.parse_args()
    runs = []
    for spec in args.runs:
        d, _, label = spec.partition(":")
        with open(os.path.join(d, "training.json")) as f:
            runs.append((label or os.path.basename(d.rstrip("/")), json.load(f)))
    steps = max(r["recipe"]["steps"] for _, r in runs)
    lo, hi = math.log10(0.005), math.log10(8.0)
    px = lambda s: L + (W - L - R) * s / steps  # noqa: E731
    py = lambda v: T + (H - T - B) * (hi - math.log10(max(v, 10 ** lo))) / (hi - lo)  # noqa: E731
    pa = lambda a: T + (H - T - B) * (100.0 - max(a, ACC_LO)) / (100.0 - ACC_LO)  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="18" font-size="14">vila-shapes training: loss (line, EMA, log scale, left) and validation exact match (dots, right)</text>']
    for v in (0.01, 0.03, 0.1, 0.3, 1, 3):
        y = py(v)
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for a in range(int(ACC_LO), 101, 10):
        out.append(f'<text x="{W - R + 6}" y="{pa(a) + 4:.1f}" font-size="10" fill="#555">{a}%</text>')
    for s in range(0, steps + 1, max(1, steps // 6)):
        out.append(f'<text x="{px(s):.1f}" y="{H - B + 16}" text-anchor="middle">{s}</text>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 8}" text-anchor="middle">step (batch of 32 questions)</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>')
    for k, (label, r) in enumerate(runs):
        c = COLOURS[k % len(COLOURS)]
        pts = " ".join(f"{px(p['step']):.1f},{py(p['loss_ema']):.1f}" for p in r["curve"])
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.6"/>')
        acc = [(e["step"], e["val_accuracy"] * 100) for e in r["evals"]]
        out.append(f'<polyline points="{" ".join(f"{px(st):.1f},{pa(a):.1f}" for st, a in acc)}" fill="none" '
                   f'stroke="{c}" stroke-width="0.8" stroke-dasharray="3,3"/>')
        out += [f'<circle cx="{px(st):.1f}" cy="{pa(a):.1f}" r="3" fill="{c}"/>' for st, a in acc]
        x0, y0 = W - R + 48, T + 14 + 64 * k
        out.append(f'<text x="{x0}" y="{y0}" fill="{c}" font-weight="bold">{label}</text>')
        out.append(f'<text x="{x0}" y="{y0 + 16}">final loss {r["final_loss_ema"]:.3f}</text>')
        if "val_accuracy_bf16" in r:
            out.append(f'<text x="{x0}" y="{y0 + 32}" font-size="10">validation (bf16): {r["val_accuracy_bf16"] * 100:.1f}%</text>')
        out.append(f'<text x="{x0}" y="{y0 + 46}" font-size="10">{r["total_seconds"] / 60:.0f} min on 2 cores (whole run)</text>')
    out.append("</svg>")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
