"""Training-only supervision of the question words that name a shape or a colour (two kinds: a probe of
what the word's residual stream knows, and where the word's first-layer attention looks).

Questions like "Is there a star?", "How many red shapes are there?" or "What colour is the circle?" need
the language model to match a word of the question with what the picture tokens show. Learned only
through the answers, that match appeared slowly (run G in EXPERIMENTS.md: "is there a ..." still at a
constant answer after 1000 steps). So, during training, the residual stream at each such word (after
PROBE_LAYER layers) also predicts, through a linear head that is thrown away afterwards, what the picture
says about the thing the word names: how many there are, and for a shape named once in the picture its
colour, kind, and horizontal and vertical third. The language model itself is unchanged.
"""
import torch
import torch.nn.functional as F

import sys
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vila_torch import VilaTorch  # noqa: E402

from scenes import COLOURS, SHAPES

PROBE_LAYER = 2  # residual stream after this many decoder layers (of 4)
COUNT, COLOUR, KIND, XPOS, YPOS = 4, len(COLOURS), len(SHAPES), 3, 3
FIELDS = [("count", COUNT), ("colour", COLOUR), ("kind", KIND), ("x", XPOS), ("y", YPOS)]
N_OUT = sum(n for _, n in FIELDS)
IGNORE = -100


def word_ids(sp) -> dict:
    """piece id -> ("kind", name) or ("colour", name), for the single pieces of the words (and plurals)."""
    out = {}
    for kind in SHAPES:
        for form in (kind, kind + "s"):
            ids = sp.encode(form)
            if len(ids) == 1:
                out[ids[0]] = ("kind", kind)
    for colour in COLOURS:
        ids = sp.encode(colour)
        if len(ids) == 1:
            out[ids[0]] = ("colour", colour)
    return out


def _third(v: float) -> int:
    return 0 if v < 1 / 3 else (2 if v > 2 / 3 else 1)


def targets_for(scene, attr: str, value: str) -> list:
    """[count, colour, kind, x third, y third] of the shapes in scene whose attr equals value (IGNORE where
    it is not one shape, or the field is the word itself)."""
    hits = [s for s in scene.shapes if getattr(s, attr) == value]
    t = [min(len(hits), 3), IGNORE, IGNORE, IGNORE, IGNORE]
    if len(hits) == 1:
        s = hits[0]
        if attr != "colour":
            t[1] = list(COLOURS).index(s.colour)
        if attr != "kind":
            t[2] = SHAPES.index(s.kind)
        t[3] = _third(s.rel_x(scene.width))
        t[4] = _third(s.rel_y(scene.height))
    return t


class WordProbe(torch.nn.Module):
    def __init__(self, hidden: int, sp, samples, scenes):
        super().__init__()
        self.head = torch.nn.Linear(hidden, N_OUT)
        self.words = word_ids(sp)
        self.samples, self.scenes = samples, scenes

    def forward(self, streams, idx, positions) -> torch.Tensor:
        """Mean cross-entropy over the named words in the questions of rows idx (one-picture samples)."""
        rows, cols, tgts = [], [], []
        for r, i in enumerate(idx):
            pics = self.samples[i]["images"]
            if len(pics) != 1:
                continue
            scene = self.scenes[pics[0]]
            for tokid, t, supervised in positions[r]:
                word = self.words.get(tokid)
                if word is None or supervised:
                    continue
                rows.append(r)
                cols.append(t)
                tgts.append(targets_for(scene, *word))
        if not rows:
            return streams[0].sum() * 0.0
        logits = self.head(streams[PROBE_LAYER - 1][torch.tensor(rows), torch.tensor(cols)])
        tgt = torch.tensor(tgts)
        loss, start = 0.0, 0
        for f, (_, n) in enumerate(FIELDS):
            if (tgt[:, f] != IGNORE).any():
                loss = loss + F.cross_entropy(logits[:, start:start + n], tgt[:, f], ignore_index=IGNORE)
            start += n
        return loss


ATTEND_HEAD = 0  # the first-layer head whose attention is supervised


def token_label_mass(patch_labels: torch.Tensor) -> torch.Tensor:
    """Per-patch label fractions (N, g*g, labels), patches row-major -> per picture token of the language
    model (N, g*g/4, labels): the sum over the 2x2 patches that mlp_downsample merges into the token, in
    the projector's token order (upstream's flat_square)."""
    n, L, K = patch_labels.shape
    g = int(L ** 0.5)
    x = VilaTorch.flat_square(patch_labels.float().reshape(n, g, g, K).contiguous())
    return x.reshape(n, -1, 4, K).sum(2)


class WordAttention:
    """Each question word naming a shape or colour should, in one head of the first decoder layer, look at
    the picture tokens that show that shape or colour (in proportion to its area there), or at the first
    token (<s>) when the picture has none. Gives the language model a direct signal for matching a word to
    the picture, which it otherwise finds only after a long plateau (EXPERIMENTS.md)."""

    def __init__(self, sp, samples, token_mass: torch.Tensor):
        self.words = word_ids(sp)
        self.samples, self.mass = samples, token_mass
        cols = {}
        for k, kind in enumerate(SHAPES):
            cols[("kind", kind)] = [1 + k * COLOUR + c for c in range(COLOUR)]
        for c, colour in enumerate(COLOURS):
            cols[("colour", colour)] = [1 + k * COLOUR + c for k in range(KIND)]
        self.cols = cols

    def __call__(self, attn0, idx, positions, prefix_len: int) -> torch.Tensor:
        rows, qs, tgts = [], [], []
        S = attn0.shape[-1]
        n_tok = self.mass.shape[1]
        for r, i in enumerate(idx):
            pics = self.samples[i]["images"]
            if len(pics) != 1:
                continue
            mass = self.mass[pics[0]]
            for tokid, t, supervised in positions[r]:
                word = self.words.get(tokid)
                if word is None or supervised:
                    continue
                m = mass[:, self.cols[word]].sum(-1)
                tgt = torch.zeros(S)
                if m.sum() > 0:
                    tgt[prefix_len:prefix_len + n_tok] = m / m.sum()  # the picture comes first after the prefix
                else:
                    tgt[0] = 1.0
                rows.append(r)
                qs.append(t)
                tgts.append(tgt)
        if not rows:
            return attn0.sum() * 0.0
        p = attn0[torch.tensor(rows), ATTEND_HEAD, torch.tensor(qs)]
        return -(torch.stack(tgts) * torch.log(p + 1e-9)).sum(-1).mean()
