#!/usr/bin/python3
"""Tower-only experiment: how fast does a SigLIP tower of a given shape learn to tell the shapes apart?

  /usr/bin/python3 tools/shapes/tower_experiment.py IMAGE_SIZE PATCH HIDDEN LR STEPS HEADS
      HEADS: p (per-patch labels), k (kinds present, max over patches), w (patch loss weighted to shapes)

12000 training pictures of 1-3 shapes (seed 1), 600 new ones (seed 2), batches of 128, AdamW with a
50-step warm-up and a cosine to 5%; every 100 steps prints the share of new pictures whose set of kinds
present is exactly right. One thread, so two can run side by side; results in EXPERIMENTS.md.
"""
import math
import os
import random
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
from batches import normalise, patch_labels, preprocess  # noqa: E402
from model import SiglipTower, VilaShapes  # noqa: E402
from scenes import N_LABELS, SHAPES, draw, label_mask, random_scene  # noqa: E402


def pictures(n: int, seed: int, size: int):
    rng = random.Random(seed)
    scenes = [random_scene(rng, n=rng.choice([1, 1, 2, 3])) for _ in range(n)]
    return scenes, preprocess([draw(s, i) for i, s in enumerate(scenes)], size)


def kinds_present(scenes) -> torch.Tensor:
    y = torch.zeros(len(scenes), len(SHAPES))
    for i, s in enumerate(scenes):
        for sh in s.shapes:
            y[i, SHAPES.index(sh.kind)] = 1
    return y


def main() -> None:
    size, patch, hidden = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    lr, steps, heads = float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = dict(image_size=size, patch_size=patch, v_hidden=hidden, v_heads=4, v_inter=4 * hidden, v_layers=4,
               select_layer=-2)
    t0 = time.time()
    tr_s, tr_px = pictures(12000, 1, size)
    te_s, te_px = pictures(600, 2, size)
    g = size // patch
    labels = patch_labels(np.stack([label_mask(s, g * patch) for s in tr_s]), patch, N_LABELS)
    y_tr, y_te = kinds_present(tr_s), kinds_present(te_s)
    print(f"pictures ready in {time.time() - t0:.0f} s", flush=True)
    tower = SiglipTower(cfg)
    tower.apply(VilaShapes._init)  # initialised as in training
    patch_head, kind_head = torch.nn.Linear(hidden, N_LABELS), torch.nn.Linear(hidden, len(SHAPES))
    params = list(tower.parameters()) + list(patch_head.parameters()) + list(kind_head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.05)
    gen = torch.Generator().manual_seed(0)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * min(1, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        idx = torch.randint(0, len(tr_s), (128,), generator=gen)
        f = tower(normalise(tr_px[idx]))
        loss = torch.zeros(())
        if "p" in heads:
            t = labels[idx].float()
            w = (1 - t[..., 0]) * 4 + 0.25 if "w" in heads else 1.0
            loss = loss + (-(t * torch.log_softmax(patch_head(f), -1)).sum(-1) * w).mean()
        if "k" in heads:
            loss = loss + F.binary_cross_entropy_with_logits(kind_head(f.max(1).values), y_tr[idx])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if (step + 1) % 100 == 0:
            with torch.no_grad():
                fe = tower(normalise(te_px))
                if "k" in heads:
                    pred = kind_head(fe.max(1).values) > 0
                else:  # from the patch head: a kind is present where some patch gives it > 0.5
                    pr = torch.softmax(patch_head(fe), -1)[..., 1:].reshape(len(te_s), -1, len(SHAPES), 6)
                    pred = pr.sum(-1).max(1).values > 0.5
                acc = (pred == (y_te > 0)).all(-1).float().mean().item()
            print(f"{sys.argv[1:]} step {step + 1} loss {float(loss):.3f} kinds-set exact {acc * 100:.1f}%  "
                  f"{time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
