"""Training-only supervision of where an answer looks, in the second decoder layer.

The first answer token has to combine two things: what the question names ("the circle", "red shapes",
"the first picture") and what the picture holds. The word-attention loss (word_attention.py) brings what
the picture shows about a named thing to that word's position in the first layer; the scene code
(scene_code.py) makes the mean of a picture's tokens tell the facts about the whole scene. This loss asks two
heads of the second layer, at the position that predicts the first token of each answer, to read both:
  head 0  evenly at the words of the current question that name a kind, a colour, any shape or a picture
          ("first"/"second"), skipped when the question names none;
  heads 1..n  evenly at the tokens of the picture the question is about: the one picture, the picture named
          by "first"/"second", else both. A head passes on only its own slice of each token (head_dim values:
          32 of 192 here), so reading the scene code takes several.
The model itself is unchanged; this is a loss on its attention probabilities, used in training only.
"""
import torch

from word_attention import IMAGE_TOKEN_INDEX, find_words, target_loss, word_ids

WORD_HEAD = 0  # the picture heads are 1..n
AREA_LAYER, AREA_HEAD = 2, 0  # AnswerArea
# the kinds of question (questions.py) whose answer is what the named thing looks like, or whether it is there;
# AnswerArea leaves out the others: where, count, side, bigger ask for a place, a number or a comparison, which
# the tokens' mean weighted by the named thing's area does not give (on a GPU, run `long-area` of sweep_gpu.sh
# answered "where" worse than `long`: 5/22 against 15/22 after 1200 steps)
AREA_KINDS = frozenset({"shape", "colour", "describe", "is_there", "is_colour", "colour_of", "shape_of"})


def turns(tokens):
    """(token id, position, supervised) in order -> [(question tokens, position predicting the first answer
    token)] for every answer: the unsupervised stretch before it (pictures left out) and the position just
    before the answer's first token."""
    out, question, in_answer = [], [], False
    for tokid, t, supervised in tokens:
        if supervised and not in_answer:
            out.append((question, t - 1))
            question = []
        in_answer = supervised
        if not supervised and tokid != IMAGE_TOKEN_INDEX:
            question.append((tokid, t, supervised))
    return out


class AnswerAttention:
    """Callable loss: cross-entropy between the targets above and the second layer's attention probabilities
    of WORD_HEAD and the picture heads at each answer's first prediction."""

    def __init__(self, sp, samples, tokens_per_picture: int, picture_heads: int = 1):
        self.picture_heads = range(1, 1 + picture_heads)
        self.words = word_ids(sp)
        self.samples = samples
        self.n_tok = tokens_per_picture

    def __call__(self, attn1, idx, positions, prefix_len: int) -> torch.Tensor:
        """attn1 (B, heads, T, prefix_len + T): the second layer's attention for rows idx; positions: per row
        (token id, position, supervised) of its text tokens and pictures (batches.assemble)."""
        S = attn1.shape[-1]
        picked, targets = [], []
        for r, i in enumerate(idx):
            starts = [t for tokid, t, _ in positions[r] if tokid == IMAGE_TOKEN_INDEX]
            for question, at in turns(positions[r]):
                named = find_words(self.words, question)
                word_t = [t for _, t in named]
                pics = [w[1] for w, _ in named if w[0] == "picture" and w[1] < len(starts)] or range(len(starts))
                if word_t:
                    tgt = torch.zeros(S)
                    tgt[[prefix_len + t for t in word_t]] = 1.0 / len(word_t)
                    picked.append((r, WORD_HEAD, at))
                    targets.append(tgt)
                tgt = torch.zeros(S)
                keys = [prefix_len + starts[p] + k for p in sorted(set(pics)) for k in range(self.n_tok)]
                tgt[keys] = 1.0 / len(keys)
                for h in self.picture_heads:
                    picked.append((r, h, at))
                    targets.append(tgt)
        if not picked:
            return attn1.sum() * 0.0
        r, h, q = (torch.tensor(x, device=attn1.device) for x in zip(*picked))
        return target_loss(attn1[r, h, q], targets)


class AnswerArea:
    """Callable loss, from the third layer (AREA_LAYER): at each answer's first prediction of a one-picture
    question, AREA_HEAD looks at the picture tokens showing what the question names, in proportion to its area
    there (a named kind first, else a named colour; all at <s> when the picture has none), as word_attention.py's
    area targets do for the words themselves. Questions that name neither are skipped. For "what shape is red?"
    in a three-shape picture, the answer then reads the red shape's tokens directly. Only the turns whose kind
    of question is in `kinds` (AREA_KINDS) are used."""

    def __init__(self, word_attention, kinds=AREA_KINDS):
        """word_attention: a word_attention.WordAttention (its words, samples and area targets)."""
        self.wa = word_attention
        self.kinds = kinds

    def __call__(self, attn2, idx, positions, prefix_len: int) -> torch.Tensor:
        S = attn2.shape[-1]
        picked, targets = [], []
        for r, i in enumerate(idx):
            sample = self.wa.samples[i]
            pics = sample["images"]
            if len(pics) != 1:
                continue
            start = next(t for tokid, t, _ in positions[r] if tokid == IMAGE_TOKEN_INDEX)
            kinds = [t["kind"] for t in sample.get("turns", [sample])]
            asked = turns(positions[r])
            assert len(asked) == len(kinds), "one answer per turn"
            for (question, at), kind in zip(asked, kinds):
                if kind not in self.kinds:
                    continue
                named = [w for w, _ in find_words(self.wa.words, question)]
                word = next((w for w in named if w[0] == "kind"), None) or next((w for w in named if w[0] == "colour"),
                                                                                 None)
                if word is None:
                    continue
                picked.append((r, at))
                targets.append(self.wa.area_target(word, pics[0], prefix_len + start, S))
        if not picked:
            return attn2.sum() * 0.0
        r, q = (torch.tensor(x, device=attn2.device) for x in zip(*picked))
        return target_loss(attn2[r, AREA_HEAD, q], targets)
