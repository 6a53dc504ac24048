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


def patches_to_tokens(per_patch: torch.Tensor) -> torch.Tensor:
    """Per-patch values (N, g*g, K), patches row-major -> per picture token of the language model
    (N, g*g/4, K): the sum over the 2x2 patches that mlp_downsample merges into each token, in the
    projector's token order (upstream's flat_square, the function the model runs, so the order cannot drift)."""
    n, L, K = per_patch.shape
    g = int(L ** 0.5)
    x = VilaTorch.flat_square(per_patch.float().reshape(n, g, g, K).contiguous())
    return x.reshape(n, -1, 4, K).sum(2)


def token_places(grid: int) -> torch.Tensor:
    """(row, column) of each language-model token of a picture (tokens, 2), in the merged 2x2 grid."""
    rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    patch = torch.stack([rows, cols], -1).reshape(1, grid * grid, 2).float()
    return ((patches_to_tokens(patch)[0] / 4 - 0.5) / 2).round().long()


def centre_tokens(centres: torch.Tensor, n_labels: int) -> list:
    """Per-patch centre labels (N, g*g), patches row-major (scenes.centre_cells) -> per picture a list of
    (label, index of the language-model token holding that shape's centre)."""
    marks = patches_to_tokens(torch.nn.functional.one_hot(centres, n_labels)[..., 1:])  # (N, tokens, labels - 1)
    return [[(label + 1, tok) for tok, label in torch.nonzero(m).tolist()] for m in marks]


def target_loss(p: torch.Tensor, targets: list) -> torch.Tensor:
    """Mean cross-entropy between attention probabilities p (n, keys) and target distributions (n tensors of
    (keys,), built on the CPU); the loss of every attention target here and in answer_attention.py."""
    return -(torch.stack(targets).to(p.device) * torch.log(p + 1e-9)).sum(-1).mean()


class WordAttention:
    """Callable loss: cross-entropy between the target of each such word of the questions (not the answers)
    and ATTEND_HEAD's attention probabilities there. Targets (see the top of this file):
      area     words naming a kind or colour in one-picture questions: the picture tokens in proportion to
               the named thing's area in each, or all at <s> when the picture has none;
      centres  also words for any shape and, in two-picture questions, "first" / "second" (every shape of
               that picture; otherwise the shapes of both pictures count): uniform over <s> and the tokens
               holding the centres of the k shapes the word names, so the head's output tells both what
               those shapes are and how many (the share of <s>, 1 / (k + 1))."""

    def __init__(self, sp, samples, centres: list, mass: torch.Tensor, targets: str = "area"):
        """centres: centre_tokens(...); mass: patches_to_tokens(per-patch label fractions)."""
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

    def area_target(self, word, pic: int, first: int, S: int) -> torch.Tensor:
        """(S,): over the tokens of picture pic (the first at key `first`) in proportion to the area of what
        word names in each, or all at <s> (key 0) when the picture has none."""
        m = self.mass[pic][:, sorted(self.labels[word])].sum(-1)
        tgt = torch.zeros(S)
        if m.sum() > 0:
            tgt[first:first + len(m)] = m / m.sum()
        else:
            tgt[0] = 1.0
        return tgt

    def _target(self, word, pics, starts, prefix_len: int, S: int):
        """The attention target (S,) of one word, or None where this version of the targets skips it.
        Key 0 is <s>; a picture's tokens start at prefix_len + its start."""
        if self.mode == "area":
            if len(pics) != 1 or word[0] not in ("kind", "colour"):
                return None
            return self.area_target(word, pics[0], prefix_len + starts[0], S)
        named = self.labels[word]
        tgt = torch.zeros(S)
        which = [word[1]] if word[0] == "picture" else range(len(pics))
        if max(which) >= len(pics):
            return None
        keys = [0] + [prefix_len + starts[n] + tok for n in which for label, tok in self.centres[pics[n]]
                      if label in named]
        tgt[keys] = 1.0 / len(keys)
        return tgt

    def __call__(self, attn0, idx, positions, prefix_len: int) -> torch.Tensor:
        """attn0 (B, heads, T, prefix_len + T): the first layer's attention for rows idx; positions: per row
        (token id, position, supervised) of its text tokens and pictures (batches.assemble)."""
        rows, qs, tgts = [], [], []
        S = attn0.shape[-1]
        for r, i in enumerate(idx):
            pics = self.samples[i]["images"]
            starts = [t for tokid, t, _ in positions[r] if tokid == IMAGE_TOKEN_INDEX]
            assert len(starts) == len(pics)
            for word, t in find_words(self.words, [p for p in positions[r] if p[0] != IMAGE_TOKEN_INDEX]):
                tgt = self._target(word, pics, starts, prefix_len, S)
                if tgt is not None:
                    rows.append(r)
                    qs.append(t)
                    tgts.append(tgt)
        if not rows:
            return attn0.sum() * 0.0
        dev = attn0.device
        return target_loss(attn0[torch.tensor(rows, device=dev), ATTEND_HEAD, torch.tensor(qs, device=dev)], tgts)
