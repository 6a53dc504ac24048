"""Stage 1 of the vila-shapes recipe: the vision tower alone learns to see the shapes.

VILA starts from a pretrained SigLIP; here the tower starts from random weights, and learning to tell a
star from a circle only through the language model's answers is slow. So, first, the tower (the layers
VILA uses, up to hidden_states[-2]) is trained on pictures alone with two training-only heads:
  - per patch: what the patch shows (area fractions of background and each shape/colour), soft labels;
  - per patch: the shape/colour whose centre lies in it, if any (one mark per shape, for counting);
  - per picture: how many shapes of each kind and of each colour (0-3), from the mean of the patches;
  - per picture: which kinds and colours are present (multi-label), from the maximum over the patches
    (added after runs with only the two heads above still answered "what shape" at chance level after
    800 + 750 steps; with it, a tower trained alone had every kind right on 58% of new 1-3 shape pictures
    after 400 steps).
The heads are thrown away; stage 2 (train.py) then trains the whole model on the conversations.
"""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from batches import normalise, soft_patch_loss
from parallel import share, sync_grads
from scene_code import scene_code_accuracy, scene_code_loss
from scenes import COLOURS, SHAPES

COUNT_GROUPS = len(SHAPES) + len(COLOURS)  # each predicted as 0, 1, 2 or 3


def picture_counts(scenes) -> torch.Tensor:
    """(N, kinds + colours) counts of each kind and each colour in each scene."""
    out = np.zeros((len(scenes), COUNT_GROUPS), dtype=np.int64)
    colours = list(COLOURS)
    for i, sc in enumerate(scenes):
        for s in sc.shapes:
            out[i, SHAPES.index(s.kind)] += 1
            out[i, len(SHAPES) + colours.index(s.colour)] += 1
    return torch.from_numpy(np.minimum(out, 3))


def centre_loss(centre_head, feats, centres) -> torch.Tensor:
    """Cross-entropy of each patch's "whose centre is here" class (0: none)."""
    return F.cross_entropy(centre_head(feats).reshape(-1, centre_head.out_features), centres.reshape(-1))


def pretrain_tower(tower, patch_head, centre_head, px_u8, patch_labels, centres, counts, steps: int, batch: int,
                   lr: float, seed: int, log, projector=None, scene_head=None, scene_targets=None,
                   scene_weight: float = 1.0, rank: int = 0, world: int = 1) -> list:
    """Train tower + patch_head + centre_head (+ count and presence heads made here) for `steps` steps;
    with projector and scene_head, also the projector, on the scene code of its output (scene_code.py).
    With world > 1 processes (parallel.py), this one takes its share of each batch. Returns the loss curve
    (losses averaged over the processes, accuracies of this process's share)."""
    C = patch_head.in_features
    dev = patch_head.weight.device
    count_head = torch.nn.Linear(C, COUNT_GROUPS * 4).to(dev)
    present_head = torch.nn.Linear(C, COUNT_GROUPS).to(dev)
    present = (counts > 0).float()
    params = (list(tower.parameters()) + list(patch_head.parameters()) + list(centre_head.parameters())
              + list(count_head.parameters())
              + list(present_head.parameters()))
    scene = projector is not None and scene_weight > 0
    if scene:
        params += list(projector.parameters()) + list(scene_head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.05)
    gen = torch.Generator().manual_seed(seed)
    n = px_u8.shape[0]
    curve, t0 = [], time.time()
    warm = max(1, steps // 20)
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        idx = share(torch.randint(0, n, (batch,), generator=gen), rank, world).to(dev)
        b = len(idx)
        feats = tower(normalise(px_u8[idx]))
        patch_loss = soft_patch_loss(patch_head, feats, patch_labels[idx])
        logits = count_head(feats.mean(1)).view(b, COUNT_GROUPS, 4)
        count_loss = F.cross_entropy(logits.reshape(-1, 4), counts[idx].reshape(-1))
        present_logits = present_head(feats.max(1).values)
        present_loss = F.binary_cross_entropy_with_logits(present_logits, present[idx])
        c_loss = centre_loss(centre_head, feats, centres[idx])
        total = patch_loss + count_loss + present_loss + c_loss
        if scene:
            img = projector(feats)
            s_loss = scene_code_loss(scene_head, img, scene_targets[idx])
            total = total + scene_weight * s_loss
        opt.zero_grad(set_to_none=True)
        total.backward()
        losses = sync_grads(params, [patch_loss, count_loss, present_loss, c_loss] + ([s_loss] if scene else []))
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            acc = (logits.argmax(-1) == counts[idx]).all(-1).float().mean().item()
            kinds_right = ((present_logits[:, :len(SHAPES)] > 0) == (present[idx, :len(SHAPES)] > 0)).all(-1)
            kacc = kinds_right.float().mean().item()
            curve.append({"step": step, "patch_loss": round(losses[0], 5),
                          "count_loss": round(losses[1], 5), "present_loss": round(losses[2], 5),
                          "centre_loss": round(losses[3], 5),
                          "all_counts_right": round(acc, 4), "kinds_right": round(kacc, 4)})
            scene_msg = ""
            if scene:
                sacc = scene_code_accuracy(scene_head, img, scene_targets[idx])
                curve[-1].update(scene_loss=round(losses[4], 5), scene_right={k: round(v, 4) for k, v in sacc.items()})
                scene_msg = f"  scene {losses[4]:.4f} (" + " ".join(f"{k} {v * 100:.0f}%" for k, v in sacc.items()) + ")"
            el = time.time() - t0
            log(f"tower step {step + 1}/{steps}  patch {losses[0]:.4f}  counts {losses[1]:.4f} "
                f"(all right {acc * 100:.0f}%)  kinds present {losses[2]:.4f} (right {kacc * 100:.0f}%)  centres {losses[3]:.4f}{scene_msg}  {el:.0f} s elapsed, ~{el / (step + 1) * (steps - step - 1):.0f} s left")
    return curve
