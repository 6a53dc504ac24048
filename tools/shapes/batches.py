"""From samples to tensors: VILA's prompt (vicuna_v1, "<image>\\n" per picture before the question),
tokenised as upstream's tokenizer_image_token, and batches for training and greedy evaluation.

Every prompt starts with the same tokens (BOS, system prompt, "USER:") up to the first picture; that
prefix is run once per batch and its keys/values shared by all samples (the result is the same as
running it in every row, as attention is causal)."""
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vila_torch import IMAGE_TOKEN_INDEX, build_prompt, tokenizer_image_token  # noqa: E402

IGNORE = -100


def preprocess(images, size: int) -> torch.Tensor:
    """PIL images -> uint8 (N, 3, size, size), as process_image with image_aspect_ratio "resize"
    (PIL resize, bicubic)."""
    out = np.empty((len(images), 3, size, size), dtype=np.uint8)
    for i, im in enumerate(images):
        out[i] = np.asarray(im.convert("RGB").resize((size, size), Image.BICUBIC), dtype=np.uint8).transpose(2, 0, 1)
    return torch.from_numpy(out)


def normalise(u8: torch.Tensor) -> torch.Tensor:
    return (u8.float() / 255.0 - 0.5) / 0.5  # SigLIP mean = std = 0.5


class Encoded:
    """Token ids of every sample: the shared prefix, then per sample the rest of its first prompt
    (rest), the supervised first answer + </s> (answers), and for multi-turn samples the later turns
    (follow: "USER: q ASSISTANT:" unsupervised, then its answer + </s> supervised, as vicuna_v1's
    get_prompt joins turns with sep2 = </s>)."""

    def __init__(self, samples, tok, eos_id: int):
        self.prefix = None
        self.rest, self.answers, self.follow = [], [], []
        for s in samples:
            ids = tokenizer_image_token(build_prompt(s["question"], False, len(s["images"])), tok)
            cut = ids.index(IMAGE_TOKEN_INDEX)
            if self.prefix is None:
                self.prefix = ids[:cut]
            assert ids[:cut] == self.prefix, "every prompt starts with the same prefix"
            self.rest.append(ids[cut:])
            self.answers.append(tok.encode(s["answer"])[1:] + [eos_id])
            follow = []
            for t in s.get("turns", [])[1:]:
                follow.append((tok.encode("USER: " + t["question"] + " ASSISTANT:")[1:], False))
                follow.append((tok.encode(t["answer"])[1:] + [eos_id], True))
            self.follow.append(follow)


def pictures(samples, idx):
    """The picture indices of rows idx, in the order their placeholders appear."""
    return [p for i in idx for p in samples[i]["images"]]


def assemble(model, enc: Encoded, samples, img, idx, with_answers: bool, extra=None, positions=None):
    """Rows idx -> (embeddings (B, T, D), lengths, targets (B, T) or None). Image placeholders become
    the projector's rows img (N, tokens, D) for the rows' pictures, in order. extra: per-row generated
    ids to append. positions: a list that receives, per row, (token id, position, supervised) of every
    text token, and (IMAGE_TOKEN_INDEX, first position, False) of every picture."""
    n_tok = img.shape[1] if img is not None else 0
    seqs, sups = [], []
    for r, i in enumerate(idx):
        seq = list(enc.rest[i])
        sup = [False] * len(seq)
        if with_answers:
            parts = [(enc.answers[i], True)] + enc.follow[i]
            for part, supervised in parts:
                seq += part
                sup += [supervised] * len(part)
        if extra is not None:
            seq += extra[r]
            sup += [False] * len(extra[r])
        seqs.append(seq)
        sups.append(sup)
    lengths = [len(s) + (n_tok - 1) * s.count(IMAGE_TOKEN_INDEX) for s in seqs]
    T = max(lengths)
    B = len(idx)
    ids = torch.zeros((B, T), dtype=torch.long)
    is_img = torch.zeros((B, T), dtype=torch.bool)
    targets = torch.full((B, T), IGNORE, dtype=torch.long) if with_answers else None
    for r, seq in enumerate(seqs):
        t = 0
        if positions is not None:
            positions.append([])
        for tokid, supervised in zip(seq, sups[r]):
            if tokid == IMAGE_TOKEN_INDEX:
                is_img[r, t:t + n_tok] = True
                if positions is not None:
                    positions[r].append((tokid, t, False))
                t += n_tok
            else:
                ids[r, t] = tokid
                if positions is not None:
                    positions[r].append((tokid, t, supervised))
                if supervised:
                    targets[r, t - 1] = tokid  # position t - 1 predicts token t
                t += 1
    dev = model.llm.lm_head.weight.device
    ids, is_img = ids.to(dev), is_img.to(dev)
    targets = None if targets is None else targets.to(dev)
    emb = model.llm.model.embed_tokens(ids)
    if img is not None:
        emb = emb.masked_scatter(is_img[..., None], img.reshape(-1, img.shape[-1]).to(emb.dtype))
    return emb, lengths, targets


def prefix_cache(model, enc: Encoded):
    ids = torch.tensor([enc.prefix], device=model.llm.lm_head.weight.device)
    _, kvs = model.llm(model.llm.model.embed_tokens(ids))
    return kvs


def loss_on(model, enc, samples, pixels_u8, idx, aux=None, attend=None, answer_attend=None, answer_area=None):
    """Mean cross-entropy of the answer tokens (and </s>); with aux (a function of the tower's features,
    the projector's output and the picture indices), also that training-only auxiliary loss; with attend
    (a function of the first decoder layer's attention, the rows, their text token positions and the prefix
    length), also that training-only loss on where the question words look; with answer_attend (the same
    arguments, from the second decoder layer) and answer_area (from the third), the losses on where the answers
    look. Returns (loss, aux loss, attend loss, answer-attend loss, answer-area loss)."""
    past = prefix_cache(model, enc)
    P = len(enc.prefix)
    pics = pictures(samples, idx)
    feats = model.vision_tower(normalise(pixels_u8[pics]))
    img = model.mm_projector(feats)
    positions, attention = [], {0: [], 1: [], 2: []}
    emb, _, targets = assemble(model, enc, samples, img, idx, True, positions=positions)
    h, _ = model.llm(emb, start=P, past=past, attention=attention)
    sel = targets != IGNORE
    logits = model.llm.lm_head(h[sel])
    loss = torch.nn.functional.cross_entropy(logits, targets[sel])
    return (loss, None if aux is None else aux(feats, img, pics),
            None if attend is None else attend(attention[0][0], idx, positions, P),
            None if answer_attend is None else answer_attend(attention[1][0], idx, positions, P),
            None if answer_area is None else answer_area(attention[2][0], idx, positions, P))


def soft_patch_loss(patch_head, feats, labels) -> torch.Tensor:
    """Each patch's features predict what it shows (soft labels: area fractions of background and each
    shape/colour)."""
    logp = torch.log_softmax(patch_head(feats), dim=-1)
    return -(labels.float() * logp).sum(-1).mean()


@torch.no_grad()
def greedy(model, enc, samples, pixels_u8, idx, eos_id: int, max_new: int = 8):
    """Greedy answers (token ids, without EOS) for rows idx; whole-sequence recomputation per step."""
    past = prefix_cache(model, enc)
    P = len(enc.prefix)
    out = [[] for _ in idx]
    done = [False] * len(idx)
    pics = pictures(samples, idx)
    img = model.encode_images(normalise(pixels_u8[pics])) if pics else None
    for _ in range(max_new):
        emb, lengths, _ = assemble(model, enc, samples, img, idx, False, extra=out)
        h, _ = model.llm(emb, start=P, past=past)
        last = h[torch.arange(len(idx), device=h.device), torch.tensor(lengths, device=h.device) - 1]
        nxt = model.llm.lm_head(last).argmax(-1).tolist()
        for r, t in enumerate(nxt):
            if not done[r]:
                if t == eos_id:
                    done[r] = True
                else:
                    out[r].append(t)
        if all(done):
            break
    return out


def patch_labels(masks, patch: int, n_labels: int) -> torch.Tensor:
    """Label masks (N, S, S) -> (N, (S/patch)^2, n_labels) area fractions, row-major like the tower's
    patch sequence."""
    n, S, _ = masks.shape
    g = S // patch
    out = np.empty((n, g * g, n_labels), dtype=np.float16)
    eye = np.eye(n_labels, dtype=np.float32)
    for i in range(n):
        oh = eye[masks[i, :g * patch, :g * patch]].reshape(g, patch, g, patch, n_labels).mean(axis=(1, 3))
        out[i] = oh.reshape(g * g, n_labels)
    return torch.from_numpy(out)
