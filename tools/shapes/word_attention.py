"""Training-only supervision of where the question words that name a shape or a colour look.

Questions like "Is there a star?", "Is the circle red?" or "How many red shapes are there?" need the
language model to match a word of the question with the picture tokens that show it. Learned only through
the answers, that match did not appear in 1000 steps (runs G-K in EXPERIMENTS.md: "is there a ..." stuck
at a constant answer). So, during training, one head of the first decoder layer is told where to look.
Two versions of the targets:
  area     (run M) from each word naming a kind or colour in a one-picture question: at the picture tokens
           showing it, in proportion to its area in each, or all at the first token (<s>) when the picture
           has none. Broke the plateau within 500 steps ("is there" 16 -> 23/27, "is the ... red" 19 -> 28/31).
  centres  (runs Q/R) also words for any shape and two-picture questions; evenly at <s> and the tokens
           holding the centres of the named shapes (so the head's output also carries the count). Did not
           break the plateau by 500 steps.
The model itself is unchanged; this is a loss on its attention probabilities, used in training only.
"""
import os
import sys

import torch

from scenes import COLOURS, SHAPES

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vila_torch import IMAGE_TOKEN_INDEX, VilaTorch  # noqa: E402

ATTEND_HEAD = 0  # the first-layer head whose attention is supervised
ANY_SHAPE = ("shape", "shapes", "object", "objects", "thing", "things")  # words that name every shape
ORDINALS = ("first", "second")  # in two-picture questions: every shape of that picture


def word_ids(sp) -> dict:
    """tuple of piece ids -> ("kind", name), ("colour", name), ("any", None) or ("picture", index): how the
    tokenizer writes each word (and plural) after a space."""
    out = {}
    for kind in SHAPES:
        for form in (kind, kind + "s"):
            out[tuple(sp.encode(form))] = ("kind", kind)
    for colour in COLOURS:
        out[tuple(sp.encode(colour))] = ("colour", colour)
    for word in ANY_SHAPE:
        out[tuple(sp.encode(word))] = ("any", None)
    for n, word in enumerate(ORDINALS):
        out[tuple(sp.encode(word))] = ("picture", n)
    return out


def find_words(words: dict, tokens) -> list:
    """tokens: (token id, position, supervised) in order -> [(word, position of its last piece)] for the
    words of `words` in unsupervised (question) text, longest match first."""
    longest = max(len(k) for k in words)
    found, ids = [], []
    for tokid, t, supervised in tokens:
        ids = (ids + [tokid])[-longest:] if not supervised else []
        for n in range(min(len(ids), longest), 0, -1):
            word = words.get(tuple(ids[-n:]))
            if word is not None:
                found.append((word, t))
                break
    return found


def token_label_mass(patch_labels: torch.Tensor) -> torch.Tensor:
    """Per-patch label fractions (N, g*g, labels), patches row-major -> per picture token of the language
    model (N, g*g/4, labels): the sum over the 2x2 patches that mlp_downsample merges into the token, in
    the projector's token order (upstream's flat_square, the function the model runs)."""
    n, L, K = patch_labels.shape
    g = int(L ** 0.5)
    x = VilaTorch.flat_square(patch_labels.float().reshape(n, g, g, K).contiguous())
    return x.reshape(n, -1, 4, K).sum(2)


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
    probabilities at each such word of the questions (not the answers); in two-picture questions the
    shapes of both pictures count, and "first" / "second" name every shape of that picture.

    The target is uniform over <s> and the tokens holding the centres of the k shapes the word names, so
    the head's output tells both what those shapes are (their tokens' values) and how many (the share of
    <s>, 1 / (k + 1))."""

    def __init__(self, sp, samples, centres: list, mass: torch.Tensor, targets: str = "area"):
        """centres: centre_tokens(...); mass: token_label_mass(...); targets: "area" (first version, run M:
        from words naming a kind or colour in one-picture questions, at the tokens showing it in proportion to
        its area there, or all at <s> when absent) or "centres" (second version, runs Q/R: as described
        above)."""
        if targets not in ("area", "centres"):
            raise ValueError(f"word attention targets: 'area' or 'centres', not {targets!r}")
        self.words = word_ids(sp)
        self.samples, self.centres, self.mass, self.mode = samples, centres, mass, targets
        n_colours = len(COLOURS)
        every = set(range(1, 1 + len(SHAPES) * n_colours))
        self.labels = {("any", None): every, ("picture", 0): every, ("picture", 1): every}
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
            starts = [t for tokid, t, _ in positions[r] if tokid == IMAGE_TOKEN_INDEX]
            assert len(starts) == len(pics)
            for word, t in find_words(self.words, [p for p in positions[r] if p[0] != IMAGE_TOKEN_INDEX]):
                named = self.labels[word]
                if self.mode == "area":
                    if len(pics) != 1 or word[0] not in ("kind", "colour"):
                        continue
                    m = self.mass[pics[0]][:, sorted(named)].sum(-1)
                    tgt = torch.zeros(S)
                    if m.sum() > 0:
                        tgt[prefix_len + starts[0]:prefix_len + starts[0] + len(m)] = m / m.sum()
                    else:
                        tgt[0] = 1.0
                    rows.append(r)
                    qs.append(t)
                    tgts.append(tgt)
                    continue
                which = [word[1]] if word[0] == "picture" else range(len(pics))
                if max(which) >= len(pics):
                    continue
                keys = [0] + [prefix_len + starts[n] + tok  # key 0 is <s>
                              for n in which for label, tok in self.centres[pics[n]] if label in named]
                tgt = torch.zeros(S)
                tgt[keys] = 1.0 / len(keys)
                rows.append(r)
                qs.append(t)
                tgts.append(tgt)
        if not rows:
            return attn0.sum() * 0.0
        p = attn0[torch.tensor(rows), ATTEND_HEAD, torch.tensor(qs)]
        return -(torch.stack(tgts) * torch.log(p + 1e-9)).sum(-1).mean()
