"""Datasets of (pictures, question, answer) for vila-shapes, drawn from a seed.

A dataset is a list of samples; most ask about one picture, some about two one-shape pictures.
Pictures are drawn at their own size (72-320 px, some not square) and kept as PIL images; the model
sees them after VILA's preprocessing (resize to the tower's input size, bicubic) like any picture.
"""
import multiprocessing
import random

from questions import ask_one, ask_two
from scenes import draw, random_scene

PLACEMENTS = ["left", "right", "top", "bottom", "centre", "anywhere", "anywhere"]


def single_shape_scene(rng):
    return random_scene(rng, n=1, placement=rng.choice(PLACEMENTS))


def _draw(job):
    return draw(*job)


def draw_all(jobs, procs: int = 1):
    """[(scene, drawing seed)] -> PIL images, in order; with procs > 1 drawn by that many processes (each
    picture depends on its own seed only, so the pictures are the same)."""
    if procs <= 1 or len(jobs) < 64:
        return [draw(*j) for j in jobs]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        return pool.map(_draw, jobs, chunksize=64)


def make_samples(seed: int, n_scenes: int, per_scene: int = 2, pair_fraction: float = 0.12,
                 conversations: bool = False, procs: int = 1):
    """-> (images, scenes, samples): images a list of PIL images, scenes what each shows; samples a list of
    {"images": [index, ...], "question": str, "answer": str, "kind": str}, one per question; with
    conversations, one sample per picture (or pair) whose "turns" holds all its questions as a multi-turn
    conversation (as VILA's training data), the first of them also as "question" / "answer" / "kind".
    procs: processes drawing the pictures."""
    rng = random.Random(seed)
    images, scenes, samples = [], [], []  # images: (scene, drawing seed) until drawn at the end
    n_pairs = int(round(n_scenes * pair_fraction / 2))
    for i in range(n_scenes - 2 * n_pairs):
        scene = single_shape_scene(rng) if rng.random() < 0.35 else random_scene(rng)
        images.append((scene, rng.randrange(1 << 30)))
        scenes.append(scene)
        asked = set()
        for _ in range(per_scene):
            for _try in range(4):
                q, a, kind = ask_one(scene, rng)
                if q not in asked:
                    break
            asked.add(q)
            samples.append({"images": [len(images) - 1], "question": q, "answer": a, "kind": kind, "group": i})
    for i in range(n_pairs):
        a_scene = single_shape_scene(rng)
        b_scene = single_shape_scene(rng)
        # about half the pairs share the shape (or the colour), so "yes" and "no" are both common
        if rng.random() < 0.5:
            b_scene.shapes[0].kind = a_scene.shapes[0].kind
        if rng.random() < 0.4:
            b_scene.shapes[0].colour = a_scene.shapes[0].colour
        images.append((a_scene, rng.randrange(1 << 30)))
        images.append((b_scene, rng.randrange(1 << 30)))
        scenes += [a_scene, b_scene]
        for _ in range(per_scene):
            q, a, kind = ask_two(a_scene, b_scene, rng)
            samples.append({"images": [len(images) - 2, len(images) - 1], "question": q, "answer": a, "kind": kind,
                            "group": n_scenes + i})
    if conversations:
        groups = {}
        for smp in samples:
            groups.setdefault(smp.pop("group"), []).append(smp)
        samples = [dict(g[0], turns=[{k: t[k] for k in ("question", "answer", "kind")} for t in g])
                   for g in groups.values()]
    else:
        for smp in samples:
            del smp["group"]
    order = list(range(len(samples)))
    rng.shuffle(order)
    images = draw_all(images, procs)
    return images, scenes, [samples[i] for i in order]
