"""Training-only supervision of where the question words that name a shape or a colour look.

Questions like "Is there a star?", "Is the circle red?" or "How many red shapes are there?" need the
language model to match a word of the question with the picture tokens that show it. Learned only through
the answers, that match did not appear in 1000 steps (runs G-K in EXPERIMENTS.md: "is there a ..." stuck
at a constant answer). So, during training, one head of the first decoder layer is told where to look:
from each word naming a kind, a colour or any shape, at the first token (<s>) and at the tokens holding the
centres of the shapes it names, evenly. With a first version of this (run M), "is there" and "is the ...
red" left their constant answers within 500 steps. The model itself is unchanged; this is a loss on its
attention probabilities, used in training only.
"""
import torch

from scenes import COLOURS, SHAPES

ATTEND_HEAD = 0  # the first-layer head whose attention is supervised
ANY_SHAPE = ("shape", "shapes", "object", "objects", "thing", "things")  # words that name every shape


def word_ids(sp) -> dict:
    """piece id -> ("kind", name), ("colour", name) or ("any", None), for the words (and plurals) that are
    one piece."""
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
    for word in ANY_SHAPE:
        ids = sp.encode(word)
        if len(ids) == 1:
            out[ids[0]] = ("any", None)
    return out


def centre_tokens(centres: torch.Tensor) -> list:
    """Per-patch centre labels (N, g*g), patches row-major (scenes.centre_cells) -> per picture a list of
    (label, index of the language-model token holding that shape's centre), tokens in the projector's
    order (upstream's flat_square merges 2x2 patches and lists the merged grid column by column)."""
    n, L = centres.shape
    g = int(L ** 0.5)
    out = []
    for i in range(n):
        out.append([(int(centres[i, p]), (p % g // 2) * (g // 2) + p // g // 2)
                    for p in torch.nonzero(centres[i]).flatten().tolist()])
    return out


class WordAttention:
    """Callable loss: cross-entropy between the target described above and ATTEND_HEAD's attention
    probabilities at each such word of the questions (not the answers) of one-picture samples.

    The target is uniform over <s> and the tokens holding the centres of the k shapes the word names, so
    the head's output tells both what those shapes are (their tokens' values) and how many (the share of
    <s>, 1 / (k + 1))."""

    def __init__(self, sp, samples, centres: list):
        self.words = word_ids(sp)
        self.samples, self.centres = samples, centres
        n_colours = len(COLOURS)
        self.labels = {("any", None): set(range(1, 1 + len(SHAPES) * n_colours))}
        for k, kind in enumerate(SHAPES):
            self.labels[("kind", kind)] = {1 + k * n_colours + c for c in range(n_colours)}
        for c, colour in enumerate(COLOURS):
            self.labels[("colour", colour)] = {1 + k * n_colours + c for k in range(len(SHAPES))}

    def __call__(self, attn0, idx, positions, prefix_len: int) -> torch.Tensor:
        """attn0 (B, heads, T, prefix_len + T): the first layer's attention for rows idx; positions: per row
        (token id, position, supervised) of its text tokens."""
        rows, qs, tgts = [], [], []
        S = attn0.shape[-1]
        for r, i in enumerate(idx):
            pics = self.samples[i]["images"]
            if len(pics) != 1:
                continue
            centres = self.centres[pics[0]]
            for tokid, t, supervised in positions[r]:
                word = self.words.get(tokid)
                if word is None or supervised:
                    continue
                named = self.labels[word]
                keys = [0] + [prefix_len + tok for label, tok in centres if label in named]  # the picture
                tgt = torch.zeros(S)  # comes first after the prefix; key 0 is <s>
                tgt[keys] = 1.0 / len(keys)
                rows.append(r)
                qs.append(t)
                tgts.append(tgt)
        if not rows:
            return attn0.sum() * 0.0
        p = attn0[torch.tensor(rows), ATTEND_HEAD, torch.tensor(qs)]
        return -(torch.stack(tgts) * torch.log(p + 1e-9)).sum(-1).mean()
