"""Training-only supervision of the question words that name a shape or a colour.

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
