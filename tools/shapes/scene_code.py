"""Training-only "scene code": what the mean of a picture's language-model tokens must make readable.

Every one-picture question is answered by a few facts about the scene: how many shapes (of a kind, of a
colour), the colour of the circle, the kind of the red shape, where the star is, which shape is leftmost
or biggest. A language-model head that looks evenly at a picture's tokens (the easiest thing attention
does) reads their mean. This loss asks that mean, through one linear layer, to give each of those facts;
so the facts, including the bindings ("the circle is red", "the star is on the left"), are in the tokens in
a form the language model can read without first learning where in the picture to look. The linear layer
is thrown away; only the tower and projector are shaped by it.

Groups (each a softmax over its classes; a group is skipped where its fact is undefined for the scene):
  total              number of shapes, 0-3
  count:<kind>       number of shapes of that kind, 0-3 (4 groups)
  count:<colour>     number of shapes of that colour, 0-3 (6 groups)
  colour:<kind>      absent or the colour of the (only) shape of that kind (skipped if two share the kind)
  kind:<colour>      absent or the kind of the (only) shape of that colour (skipped if two share the colour)
  region:<kind>      absent, left, right, top, bottom or elsewhere, for the only shape of that kind
  region:only        left, right, top, bottom or elsewhere, for the shape of a one-shape picture (what "where is
                     the shape?" asks, without first finding which kind it is)
  leftmost/rightmost the kind of the shape furthest left/right (skipped if one shape, or too close to call,
                     or kinds repeat)
  biggest/smallest   the kind of the biggest/smallest shape (skipped if one shape, sizes too close, or
                     kinds repeat)
"""
import numpy as np
import torch
import torch.nn.functional as F

from questions import region_of
from scenes import COLOURS, SHAPES

IGNORE = -100
REGIONS = ("left", "right", "top", "bottom", "elsewhere")
_COLOURS = list(COLOURS)

GROUPS = ([("total", 4)] + [(f"count:{k}", 4) for k in SHAPES] + [(f"count:{c}", 4) for c in _COLOURS]
          + [(f"colour:{k}", 1 + len(_COLOURS)) for k in SHAPES] + [(f"kind:{c}", 1 + len(SHAPES)) for c in _COLOURS]
          + [(f"region:{k}", 1 + len(REGIONS)) for k in SHAPES] + [("region:only", len(REGIONS))]
          + [(name, len(SHAPES)) for name in ("leftmost", "rightmost", "biggest", "smallest")])
N_CLASSES = sum(n for _, n in GROUPS)
FAMILIES = ("total", "count", "colour", "kind", "region", "leftmost", "rightmost", "biggest", "smallest")


def region(scene, s) -> str:
    """Where "where is the ..." would place shape s (questions.region_of), or elsewhere."""
    return region_of(scene, s) or "elsewhere"


def scene_targets(scene) -> list:
    """The class of each group (IGNORE where undefined), in GROUPS order."""
    shapes = scene.shapes
    kinds = [s.kind for s in shapes]
    colours = [s.colour for s in shapes]
    out = [min(3, len(shapes))]
    out += [min(3, kinds.count(k)) for k in SHAPES]
    out += [min(3, colours.count(c)) for c in _COLOURS]
    for k in SHAPES:
        n = kinds.count(k)
        out.append(0 if n == 0 else 1 + _COLOURS.index(shapes[kinds.index(k)].colour) if n == 1 else IGNORE)
    for c in _COLOURS:
        n = colours.count(c)
        out.append(0 if n == 0 else 1 + SHAPES.index(shapes[colours.index(c)].kind) if n == 1 else IGNORE)
    for k in SHAPES:
        n = kinds.count(k)
        out.append(0 if n == 0 else 1 + REGIONS.index(region(scene, shapes[kinds.index(k)])) if n == 1 else IGNORE)
    out.append(REGIONS.index(region(scene, shapes[0])) if len(shapes) == 1 else IGNORE)
    distinct = len(set(kinds)) == len(kinds) and len(shapes) > 1
    by_x = sorted(shapes, key=lambda s: s.rel_x(scene.width))
    sep_x = distinct and by_x[1].rel_x(scene.width) - by_x[0].rel_x(scene.width) >= 0.15
    sep_x_r = distinct and by_x[-1].rel_x(scene.width) - by_x[-2].rel_x(scene.width) >= 0.15
    out.append(SHAPES.index(by_x[0].kind) if sep_x else IGNORE)
    out.append(SHAPES.index(by_x[-1].kind) if sep_x_r else IGNORE)
    by_r = sorted(shapes, key=lambda s: -s.r)
    out.append(SHAPES.index(by_r[0].kind) if distinct and by_r[0].r >= 1.3 * by_r[1].r else IGNORE)
    out.append(SHAPES.index(by_r[-1].kind) if distinct and by_r[-2].r >= 1.3 * by_r[-1].r else IGNORE)
    return out


def scene_code_targets(scenes) -> torch.Tensor:
    """(N, groups) int64 targets of every scene."""
    return torch.from_numpy(np.array([scene_targets(sc) for sc in scenes], dtype=np.int64))


def _split(logits: torch.Tensor):
    start = 0
    for name, n in GROUPS:
        yield name, logits[:, start:start + n]
        start += n


def scene_code_loss(head, img: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over groups (defined ones) of the cross-entropy of head(mean of the picture's tokens).
    img (N, tokens, D), targets (N, groups)."""
    logits = head(img.mean(1))
    losses = []
    for g, (name, part) in enumerate(_split(logits)):
        t = targets[:, g]
        if (t != IGNORE).any():
            losses.append(F.cross_entropy(part, t, ignore_index=IGNORE))
    return torch.stack(losses).mean()


@torch.no_grad()
def scene_code_accuracy(head, img: torch.Tensor, targets: torch.Tensor) -> dict:
    """Share of defined facts read right, per family of groups."""
    logits = head(img.mean(1))
    right, total = {}, {}
    for g, (name, part) in enumerate(_split(logits)):
        fam = name.split(":")[0]
        t = targets[:, g]
        ok = t != IGNORE
        right[fam] = right.get(fam, 0) + int((part.argmax(-1)[ok] == t[ok]).sum())
        total[fam] = total.get(fam, 0) + int(ok.sum())
    return {f: right[f] / total[f] for f in FAMILIES if total.get(f)}
