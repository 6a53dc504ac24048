"""Questions and short answers about scenes, phrased in many ways.

Every asker returns (question, answer) or None when the question would be ambiguous for that scene
(for example "which is bigger" between shapes of nearly the same size). Answers are short and plain,
with one canonical form per kind of question, so exact match is a fair score.
"""
import random

from scenes import COLOURS, SHAPES, Scene

NUMBERS = ["Zero.", "One.", "Two.", "Three."]
PLURAL = {k: k + "s" for k in SHAPES}


def a_(word: str) -> str:
    return ("An " if word[0] in "aeiou" else "A ") + word


def cap(s: str) -> str:
    return s[0].upper() + s[1:]


def colour_word(rng: random.Random) -> str:
    return rng.choice(["colour", "color"])


def _style(rng: random.Random, q: str) -> str:
    """How people type: mostly as written, sometimes lower case or without the question mark."""
    r = rng.random()
    if r < 0.12:
        q = q.lower()
    elif r < 0.2:
        q = q.rstrip("?.")
    return q


def _unique(scene: Scene, attr: str, value: str) -> bool:
    return sum(1 for s in scene.shapes if getattr(s, attr) == value) == 1


# ----------------------------------------------------------------------------- one shape

def ask_shape(scene, rng):
    if len(scene.shapes) != 1:
        return None
    q = rng.choice([
        "What shape is this?", "What shape is in the picture?", "What shape do you see?",
        "Which shape is shown?", "What is the shape in this image?", "Name the shape.",
        "What shape is it?", "Can you tell me what shape this is?", "Identify the shape in the image.",
        "What kind of shape is in the picture?", "Which shape is in the image?",
    ])
    return q, f"A {scene.shapes[0].kind}."


def ask_colour(scene, rng):
    if len(scene.shapes) != 1:
        return None
    c = colour_word(rng)
    q = rng.choice([
        f"What {c} is the shape?", f"Which {c} is it?", f"What is the {c} of the shape in the picture?",
        f"Tell me the {c} of the shape.", f"What {c} is it?", f"What {c} is the {scene.shapes[0].kind}?",
        f"What {c} is the object in the image?", f"Which {c} does the shape have?",
    ])
    return q, f"{cap(scene.shapes[0].colour)}."


def ask_describe(scene, rng):
    if len(scene.shapes) != 1:
        return None
    q = rng.choice([
        "What is in the picture?", "What do you see?", "Describe the image.", "What is shown in this image?",
        "What's in the image?", "Describe the picture in a few words.", "What does the picture show?",
        "What is this?", "Describe what you see.",
    ])
    s = scene.shapes[0]
    return q, f"{a_(s.colour)} {s.kind}."


def region_of(scene, s):
    """left/right/top/bottom where shape s clearly is one of them, else None."""
    dx, dy = s.rel_x(scene.width) - 0.5, s.rel_y(scene.height) - 0.5
    if abs(dx) >= 0.17 and abs(dy) <= 0.07:
        return "left" if dx < 0 else "right"
    if abs(dy) >= 0.17 and abs(dx) <= 0.07:
        return "top" if dy < 0 else "bottom"
    return None


def _region(scene):
    return region_of(scene, scene.shapes[0])


WHERE = {"left": "On the left.", "right": "On the right.", "top": "At the top.", "bottom": "At the bottom."}


def ask_where(scene, rng):
    if len(scene.shapes) != 1:
        return None
    region = _region(scene)
    if region is None:
        return None
    kind = scene.shapes[0].kind
    thing = rng.choice(["shape", kind, kind, "object"])
    if rng.random() < 0.5:
        q = rng.choice([
            f"Where is the {thing}?", f"Where is the {thing} in the picture?", f"Where is the {thing} located?",
            f"In which part of the image is the {thing}?", f"Where can you see the {thing}?",
        ])
    elif region in ("left", "right"):
        q = rng.choice([
            f"Is the {thing} on the left or the right?", f"Is the {thing} on the left or on the right?",
            f"Is the {thing} on the right or the left?", f"Left or right: where is the {thing}?",
        ])
    else:
        q = rng.choice([
            f"Is the {thing} at the top or at the bottom?", f"Is the {thing} at the top or the bottom?",
            f"Is the {thing} at the bottom or the top?", f"Top or bottom: where is the {thing}?",
        ])
    return q, WHERE[region]


# ----------------------------------------------------------------------------- any number of shapes

def ask_count(scene, rng):
    n = len(scene.shapes)
    r = rng.random()
    if r < 0.4:
        q = rng.choice([
            "How many shapes are there?", "How many shapes can you see?", "Count the shapes.",
            "How many objects are in the picture?", "How many shapes?", "What is the number of shapes in the image?",
            "How many shapes are in this image?", "How many things are in the picture?",
        ])
        return q, NUMBERS[n]
    if r < 0.8:
        kinds = [s.kind for s in scene.shapes]
        kind = rng.choice(kinds) if rng.random() < 0.75 else rng.choice(SHAPES)
        p = PLURAL[kind]
        q = rng.choice([
            f"How many {p} are there?", f"How many {p} do you see?", f"Count the {p}.",
            f"How many {p} are in the image?", f"How many {p} can you count?", f"How many {p}?",
            f"How many {p} are in the picture?",
        ])
        return q, NUMBERS[kinds.count(kind)]
    colours = [s.colour for s in scene.shapes]
    colour = rng.choice(colours)
    q = rng.choice([
        f"How many {colour} shapes are there?", f"How many {colour} shapes do you see?",
        f"Count the {colour} shapes.", f"How many shapes are {colour}?",
    ])
    return q, NUMBERS[colours.count(colour)]


def ask_is_there(scene, rng):
    kinds = {s.kind for s in scene.shapes}
    kind = rng.choice(sorted(kinds)) if rng.random() < 0.5 else rng.choice(SHAPES)
    q = rng.choice([
        f"Is there a {kind}?", f"Is there a {kind} in the picture?", f"Do you see a {kind}?",
        f"Does the image contain a {kind}?", f"Can you see a {kind}?", f"Is there a {kind} in this image?",
    ])
    return q, "Yes." if kind in kinds else "No."


def ask_is_colour(scene, rng):
    candidates = [s for s in scene.shapes if _unique(scene, "kind", s.kind)]
    if not candidates:
        return None
    s = rng.choice(candidates)
    colour = s.colour if rng.random() < 0.5 else rng.choice(list(COLOURS))
    q = rng.choice([f"Is the {s.kind} {colour}?", f"Is the {s.kind} in the picture {colour}?",
                    f"Is the colour of the {s.kind} {colour}?" if rng.random() < 0.5 else
                    f"Is the color of the {s.kind} {colour}?"])
    return q, "Yes." if colour == s.colour else "No."


def ask_colour_of(scene, rng):
    if len(scene.shapes) < 2:
        return None
    candidates = [s for s in scene.shapes if _unique(scene, "kind", s.kind)]
    if not candidates:
        return None
    s = rng.choice(candidates)
    c = colour_word(rng)
    q = rng.choice([f"What {c} is the {s.kind}?", f"Which {c} is the {s.kind}?",
                    f"What is the {c} of the {s.kind}?", f"Tell me the {c} of the {s.kind}."])
    return q, f"{cap(s.colour)}."


def ask_shape_of(scene, rng):
    if len(scene.shapes) < 2:
        return None
    candidates = [s for s in scene.shapes if _unique(scene, "colour", s.colour)]
    if not candidates:
        return None
    s = rng.choice(candidates)
    q = rng.choice([f"What shape is {s.colour}?", f"Which shape is {s.colour}?", f"What is the {s.colour} shape?",
                    f"What shape is the {s.colour} one?", f"Which shape has the colour {s.colour}?"])
    return q, f"A {s.kind}."


def ask_bigger(scene, rng):
    if len(scene.shapes) < 2:
        return None
    if len({s.kind for s in scene.shapes}) != len(scene.shapes):
        return None
    ranked = sorted(scene.shapes, key=lambda s: -s.r)
    if len(scene.shapes) == 2:
        a, b = scene.shapes if rng.random() < 0.5 else scene.shapes[::-1]
        if max(a.r, b.r) < 1.45 * min(a.r, b.r):
            return None
        big = a if a.r > b.r else b
        if rng.random() < 0.7:
            q = rng.choice([f"Which is bigger, the {a.kind} or the {b.kind}?",
                            f"Which shape is larger: the {a.kind} or the {b.kind}?",
                            f"Which one is bigger, the {a.kind} or the {b.kind}?",
                            f"Is the {a.kind} or the {b.kind} bigger?",
                            f"Which is smaller, the {a.kind} or the {b.kind}?"])
            if "smaller" in q:
                return q, f"The {(b if big is a else a).kind}."
            return q, f"The {big.kind}."
        q = rng.choice([f"Is the {a.kind} bigger than the {b.kind}?", f"Is the {a.kind} larger than the {b.kind}?"])
        return q, "Yes." if big is a else "No."
    if ranked[0].r < 1.45 * ranked[1].r:
        return None
    q = rng.choice(["Which shape is the biggest?", "Which shape is the largest?", "What is the biggest shape?"])
    return q, f"The {ranked[0].kind}."


def ask_side(scene, rng):
    if len(scene.shapes) != 2 or scene.shapes[0].kind == scene.shapes[1].kind:
        return None
    a, b = sorted(scene.shapes, key=lambda s: s.cx)
    if b.rel_x(scene.width) - a.rel_x(scene.width) < 0.3:
        return None
    side = rng.choice(["left", "right"])
    q = rng.choice([f"Which shape is on the {side}?", f"What is on the {side}?",
                    f"What shape is on the {side} side?", f"Which shape is further {side}?"])
    return q, f"The {(a if side == 'left' else b).kind}."


# how often each kind of question is asked, among those that fit the scene
ONE_IMAGE = [(ask_shape, 1.0), (ask_colour, 1.0), (ask_describe, 1.0), (ask_where, 2.0), (ask_count, 2.5),
             (ask_is_there, 0.8), (ask_is_colour, 0.6), (ask_colour_of, 1.2), (ask_shape_of, 1.2),
             (ask_bigger, 1.5), (ask_side, 1.5)]


# ----------------------------------------------------------------------------- two pictures

def ask_pair(a: Scene, b: Scene, rng):
    """Two one-shape pictures."""
    sa, sb = a.shapes[0], b.shapes[0]
    r = rng.random()
    if r < 0.35:
        q = rng.choice(["Are the two pictures the same shape?", "Do both images show the same shape?",
                        "Is the shape the same in both pictures?", "Do the two images have the same shape?",
                        "Are the shapes in these pictures the same?"])
        return q, "Yes." if sa.kind == sb.kind else "No."
    if r < 0.6:
        c = colour_word(rng)
        q = rng.choice([f"Are the shapes in the two images the same {c}?", f"Do both pictures have the same {c}?",
                        f"Is the {c} the same in both images?"])
        return q, "Yes." if sa.colour == sb.colour else "No."
    which = rng.choice(["first", "second"])
    s = sa if which == "first" else sb
    if rng.random() < 0.5:
        q = rng.choice([f"What shape is in the {which} picture?", f"What shape is in the {which} image?",
                        f"Which shape does the {which} picture show?"])
        return q, f"A {s.kind}."
    c = colour_word(rng)
    q = rng.choice([f"What {c} is the shape in the {which} picture?", f"What {c} is the shape in the {which} image?"])
    return q, f"{cap(s.colour)}."


def set_weights(weights: dict) -> None:
    """Change how often some kinds of question are asked ({"is_there": 2.0, ...}; the kind is the asker's
    name without "ask_")."""
    names = {ask.__name__[4:] for ask, _ in ONE_IMAGE}
    unknown = set(weights) - names
    if unknown:
        raise ValueError(f"unknown kinds of question {sorted(unknown)}; known: {sorted(names)}")
    ONE_IMAGE[:] = [(ask, weights.get(ask.__name__[4:], w)) for ask, w in ONE_IMAGE]


def ask_one(scene: Scene, rng: random.Random):
    """A question of a kind drawn (with the weights above) among those that make sense for the scene."""
    fits = [(qa, w, ask.__name__[4:]) for qa, w, ask in ((ask(scene, rng), w, ask) for ask, w in ONE_IMAGE)
            if qa is not None]
    qa, _, kind = rng.choices(fits, weights=[w for _, w, _ in fits])[0]
    return _style(rng, qa[0]), qa[1], kind


def ask_two(a: Scene, b: Scene, rng: random.Random):
    q, ans = ask_pair(a, b, rng)
    return _style(rng, q), ans, "pair"
