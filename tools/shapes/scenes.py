"""Synthetic scenes for vila-shapes: one to three flat shapes on a varied background, drawn with PIL.

A scene is plain data (sizes in pixels of the final picture) so that questions can be asked about it;
`draw(scene)` renders it. Shapes never overlap and keep a margin from each other and from the border,
so counting, positions and sizes are unambiguous to a person looking at the picture.
"""
import math
import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SHAPES = ("circle", "square", "triangle", "star")
COLOURS = {  # name -> base RGB; each shape jitters it a little
    "red": (215, 40, 40),
    "green": (40, 165, 60),
    "blue": (40, 85, 215),
    "yellow": (240, 205, 35),
    "orange": (245, 135, 25),
    "purple": (135, 55, 185),
}
SUPERSAMPLE = 4  # shapes are drawn at 4x and reduced, so edges are smooth as in a real picture


@dataclass
class Shape:
    kind: str
    colour: str
    cx: float  # centre, pixels
    cy: float
    r: float  # circumradius, pixels
    angle: float = 0.0  # small rotation (degrees) of polygons, for variety

    def rel_x(self, w: int) -> float:
        return self.cx / w

    def rel_y(self, h: int) -> float:
        return self.cy / h


@dataclass
class Scene:
    width: int
    height: int
    background: dict
    shapes: list = field(default_factory=list)


def _background(rng: random.Random) -> dict:
    """Light or dark neutral tones (never a shape colour): flat, gradient or speckled."""
    def tone():
        if rng.random() < 0.6:  # light
            base = rng.randint(200, 255)
            return tuple(max(0, min(255, base + rng.randint(-18, 8))) for _ in range(3))
        base = rng.randint(15, 70)
        return tuple(max(0, min(255, base + rng.randint(-10, 12))) for _ in range(3))
    a = tone()
    style = rng.choice(["flat", "flat", "gradient", "speckle"])
    bg = {"style": style, "a": a}
    if style == "gradient":
        light = sum(a) / 3 > 128
        b = tuple(max(0, min(255, c + rng.randint(-40, 40) if not light else c - rng.randint(0, 45))) for c in a)
        bg.update(b=b, vertical=rng.random() < 0.5)
    elif style == "speckle":
        bg.update(seed=rng.randrange(1 << 30), amount=rng.randint(8, 25))
    return bg


def _fits(shapes, cx, cy, r, w, h) -> bool:
    margin = 0.06 * min(w, h)
    if cx - r < margin or cy - r < margin or cx + r > w - margin or cy + r > h - margin:
        return False
    return all(math.hypot(cx - s.cx, cy - s.cy) > r + s.r + margin for s in shapes)


def random_scene(rng: random.Random, n: int = None, placement: str = None, sizes=None) -> Scene:
    """n shapes (1-3 drawn if None). placement for one shape: left/right/top/bottom/centre/anywhere.
    sizes: optional list of relative radii (fraction of the shorter side)."""
    side = rng.randint(72, 320)
    aspect = rng.choice([1.0, 1.0, 1.0, rng.uniform(0.75, 1.33)])
    w, h = (side, int(side / aspect)) if aspect >= 1 else (int(side * aspect), side)
    if n is None:
        n = rng.choices([1, 2, 3], weights=[4, 4, 3])[0]
    for _ in range(200):
        shapes = []
        for i in range(n):
            rel = sizes[i] if sizes else rng.uniform(0.12, 0.25 if n > 1 else 0.3)
            r = rel * min(w, h)
            for _ in range(200):
                if placement and n == 1 and placement != "anywhere":
                    off = rng.uniform(0.22, 0.32)
                    jit = rng.uniform(-0.05, 0.05)
                    fx, fy = {"left": (0.5 - off, 0.5 + jit), "right": (0.5 + off, 0.5 + jit),
                              "top": (0.5 + jit, 0.5 - off), "bottom": (0.5 + jit, 0.5 + off),
                              "centre": (0.5 + jit, 0.5 + jit)}[placement]
                    cx, cy = fx * w, fy * h
                    r = min(r, 0.17 * min(w, h)) if placement != "centre" else r
                else:
                    cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
                if _fits(shapes, cx, cy, r, w, h):
                    kind = rng.choice(SHAPES)
                    colour = rng.choice(list(COLOURS))
                    shapes.append(Shape(kind, colour, cx, cy, r, rng.uniform(-12, 12)))
                    break
            else:
                break
        if len(shapes) == n:
            return Scene(w, h, _background(rng), shapes)
    raise RuntimeError("could not place shapes")  # never reached with the sizes above


def _points(s: Shape, k: float):
    cx, cy, r, a = s.cx * k, s.cy * k, s.r * k, math.radians(s.angle)

    def poly(n, start, radii):
        pts = []
        for i in range(n * len(radii)):
            t = start + a + 2 * math.pi * i / (n * len(radii))
            rr = radii[i % len(radii)]
            pts.append((cx + rr * math.cos(t), cy + rr * math.sin(t)))
        return pts

    if s.kind == "square":
        return poly(4, math.pi / 4, [r])
    if s.kind == "triangle":
        return [(x, y + 0.25 * r) for x, y in poly(3, -math.pi / 2, [r * 1.1])]
    if s.kind == "star":
        return poly(5, -math.pi / 2, [r * 1.05, r * 0.45])
    raise ValueError(s.kind)


def draw(scene: Scene, rng_seed: int) -> Image.Image:
    """Render at SUPERSAMPLE x and reduce with a box filter; colours get a small per-shape jitter."""
    rng = random.Random(rng_seed)
    k = SUPERSAMPLE
    W, H = scene.width * k, scene.height * k
    bg = scene.background
    img = Image.new("RGB", (W, H), bg["a"])
    d = ImageDraw.Draw(img)
    if bg["style"] == "gradient":
        steps = H if bg["vertical"] else W
        for i in range(0, steps, k):
            t = i / max(1, steps - 1)
            c = tuple(int(round(x + (y - x) * t)) for x, y in zip(bg["a"], bg["b"]))
            if bg["vertical"]:
                d.rectangle([0, i, W, i + k], fill=c)
            else:
                d.rectangle([i, 0, i + k, H], fill=c)
    for s in scene.shapes:
        base = COLOURS[s.colour]
        fill = tuple(max(0, min(255, c + rng.randint(-14, 14))) for c in base)
        if s.kind == "circle":
            d.ellipse([(s.cx - s.r) * k, (s.cy - s.r) * k, (s.cx + s.r) * k, (s.cy + s.r) * k], fill=fill)
        else:
            d.polygon(_points(s, k), fill=fill)
    img = img.resize((scene.width, scene.height), Image.BOX)
    if bg["style"] == "speckle":
        noise = np.random.RandomState(bg["seed"]).randint(-bg["amount"], bg["amount"] + 1,
                                                          size=(scene.height, scene.width, 1))
        keep = np.random.RandomState(bg["seed"] + 1).random_sample((scene.height, scene.width, 1)) < 0.3
        a = np.asarray(img, dtype=np.int16) + noise * keep
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    if rng.random() < 0.15:
        img = img.filter(ImageFilter.GaussianBlur(0.6))
    return img


def label_mask(scene: Scene, size: int) -> np.ndarray:
    """What each pixel of the model's input (the picture resized to size x size) shows: 0 for the
    background, 1 + shape * len(COLOURS) + colour for a shape. Used by the auxiliary training loss."""
    sx, sy = size / scene.width, size / scene.height
    img = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(img)
    colours = list(COLOURS)
    for s in scene.shapes:
        cls = 1 + SHAPES.index(s.kind) * len(colours) + colours.index(s.colour)
        if s.kind == "circle":
            d.ellipse([(s.cx - s.r) * sx, (s.cy - s.r) * sy, (s.cx + s.r) * sx, (s.cy + s.r) * sy], fill=cls)
        else:
            d.polygon([(x * sx, y * sy) for x, y in _points(s, 1.0)], fill=cls)
    return np.asarray(img, dtype=np.uint8)


N_LABELS = 1 + len(SHAPES) * len(COLOURS)


def centre_cells(scene: Scene, size: int, patch: int) -> np.ndarray:
    """For each patch of the model's input (size x size, row-major): the label (as in label_mask) of the
    shape whose centre lies in it, else 0. Shapes keep margins wider than a patch's diagonal, so no patch
    holds two centres. Used by the auxiliary loss that teaches the tower one mark per shape (counting)."""
    g = size // patch
    out = np.zeros(g * g, dtype=np.int64)
    colours = list(COLOURS)
    for s in scene.shapes:
        col = min(g - 1, int(s.cx * size / scene.width) // patch)
        row = min(g - 1, int(s.cy * size / scene.height) // patch)
        out[row * g + col] = 1 + SHAPES.index(s.kind) * len(colours) + colours.index(s.colour)
    return out
