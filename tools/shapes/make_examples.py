#!/usr/bin/python3
"""Draw the example pictures in examples/ (fixed scenes, the same renderer as the training data).

  /usr/bin/python3 tools/shapes/make_examples.py --out examples
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenes import Scene, Shape, draw  # noqa: E402

LIGHT = {"style": "flat", "a": (238, 236, 230)}
DARK = {"style": "flat", "a": (34, 36, 44)}
GRADIENT = {"style": "gradient", "a": (232, 238, 246), "b": (200, 212, 228), "vertical": True}

EXAMPLES = {
    # name: (width, height, background, shapes as (kind, colour, cx, cy, r))
    "two-circles.png": (240, 180, LIGHT, [("circle", "red", 70, 90, 36), ("circle", "blue", 170, 95, 30)]),
    "green-star.png": (160, 160, DARK, [("star", "green", 50, 82, 30)]),
    "three-shapes.png": (300, 220, GRADIENT, [("triangle", "orange", 60, 70, 34), ("square", "purple", 220, 80, 40),
                                              ("circle", "yellow", 140, 165, 26)]),
    "big-and-small.png": (200, 200, LIGHT, [("circle", "blue", 62, 100, 26), ("square", "red", 140, 110, 44)]),
    "yellow-triangle.png": (120, 120, DARK, [("triangle", "yellow", 60, 30, 18)]),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for i, (name, (w, h, bg, shapes)) in enumerate(sorted(EXAMPLES.items())):
        scene = Scene(w, h, bg, [Shape(k, c, x, y, r) for k, c, x, y, r in shapes])
        draw(scene, 1000 + i).save(os.path.join(args.out, name), optimize=True)
        print(os.path.join(args.out, name))


if __name__ == "__main__":
    main()
