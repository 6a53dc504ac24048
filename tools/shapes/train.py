#!/usr/bin/python3
"""Train vila-shapes: a small VILA 1.5 (SigLIP tower, mlp_downsample projector, Llama decoder,
SentencePiece tokenizer, vicuna_v1 template) on synthetic pictures of shapes, on the CPU.

  /usr/bin/python3 tools/shapes/train.py --out models/vila-shapes [--seed 1] [--procs 2]

Recipe (every number is a flag; the defaults are the shipped model's):
  data     24000 pictures drawn from --seed (tools/shapes/data.py), three questions each, asked as one
           multi-turn vicuna_v1 conversation, the kinds of question weighted by TRAIN_WEIGHTS; a SentencePiece
           BPE tokenizer (600 pieces) trained on the text
  stage 1  the vision tower and projector (128 px), 2000 steps x 128 pictures, AdamW lr 2e-3, with
           training-only heads (tools/shapes/vision_pretrain.py; the scene code of the mean of each picture's
           tokens, tools/shapes/scene_code.py)
  stage 2  everything, 3600 steps x 32 conversations, AdamW lr 1e-3 (warm-up 150, cosine), loss on the
           answers and </s> only, plus 0.5 x the auxiliary losses of stage 1 (per patch, scene code), 0.5 x
           the loss on where question words naming a shape or colour look (tools/shapes/word_attention.py,
           area targets) and 0.5 x the loss on where the answers look (tools/shapes/answer_attention.py: one
           second-layer head at the words the question names, four evenly over the picture) and 0.5 x the
           loss on where one third-layer head looks at the answer to what a named thing looks like (the tokens
           showing it, answer_attention.AnswerArea)
Two training processes with one torch thread each share every batch (tools/shapes/parallel.py): on 2 cores
that is about 1.7 times as fast as one process with two threads.
Validation: greedy exact match on questions drawn from --seed + 1000, every 400 steps and with the bf16
weights at the end. Writes the checkpoint in the published VILA folder layout (bf16 safetensors,
tokenizer.model, configs) and training.json (recipe, loss curves, validation accuracy by kind of
question, times). Progress goes to stderr. Needs Debian's python3-torch; with libopenblas0-pthread
installed it runs about ten times faster than on Debian's default reference BLAS.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before torch loads BLAS: one BLAS thread beside torch's
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
from answer_attention import AnswerArea, AnswerAttention  # noqa: E402
from batches import Encoded, greedy, loss_on, patch_labels, preprocess, soft_patch_loss  # noqa: E402
from data import make_samples  # noqa: E402
from model import VilaShapes  # noqa: E402
import parallel  # noqa: E402
from scene_code import N_CLASSES, scene_code_loss, scene_code_targets  # noqa: E402
from scenes import N_LABELS, centre_cells, label_mask  # noqa: E402
from tokenizer import train_tokenizer  # noqa: E402
from questions import set_weights  # noqa: E402
from vision_pretrain import centre_loss, picture_counts, pretrain_tower  # noqa: E402
from vila_torch import VICUNA_SYSTEM, LlamaSlowTokenizer  # noqa: E402
from word_attention import WordAttention, centre_tokens, patches_to_tokens, token_places  # noqa: E402
from write_checkpoint import load_checkpoint, write_checkpoint  # noqa: E402

# kinds of question that need the picture matched with a word of the question are asked more often in
# training than in questions.py (validation and the held-out set use questions.py's weights)
TRAIN_WEIGHTS = "shape=0.6,colour=0.6,describe=0.8,is_there=1.6,is_colour=1.4,colour_of=2,shape_of=2,side=2"
VAL_SEED_OFFSET = 1000  # validation pictures come from seed + 1000 (the held-out test set uses another seed)


def dims(vocab: int, seed: int, image_size: int = 128, hidden: int = 192, heads: int = 6, inter: int = 512,
         layers: int = 4) -> dict:
    return dict(
        variant="vila-shapes", seed=seed, tower="siglip", aspect="resize",
        image_size=image_size, patch_size=16, grid=image_size // 16, v_hidden=128, v_heads=4, v_inter=512, v_layers=4,
        select_layer=-2, select_feature="cls_patch", projector="mlp_downsample",
        hidden=hidden, heads=heads, kv_heads=heads, inter=inter, layers=layers, vocab=vocab,
        rope_theta=10000.0, rms_eps=1e-5, max_pos=512,
    )


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def accuracy(model, enc, samples, px, tok, eos, rank=0, world=1, batch=64):
    """Exact match overall, and per kind of question ({kind: [right, asked]}); with world > 1 processes
    (parallel.py), each asks its share of the questions and all get the totals."""
    mine = parallel.share(list(range(len(samples))), rank, world)
    marks = []  # (kind, right) of each question asked here
    for s in range(0, len(mine), batch):
        idx = mine[s:s + batch]
        for i, ids in zip(idx, greedy(model, enc, samples, px, idx, eos)):
            marks.append((samples[i]["kind"], tok.decode(ids).strip() == samples[i]["answer"]))
    kinds = {}
    for kind, ok in (m for part in parallel.gather(marks) for m in part):
        k = kinds.setdefault(kind, [0, 0])
        k[0] += ok
        k[1] += 1
    return sum(r for r, _ in kinds.values()) / len(samples), kinds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenes", type=int, default=24000, help="training pictures")
    ap.add_argument("--turns", type=int, default=3, help="questions per picture, asked as one multi-turn conversation")
    ap.add_argument("--steps", type=int, default=3600)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--vocab", type=int, default=600)
    ap.add_argument("--image-size", type=int, default=128, help="the tower's input (patches of 16 px)")
    ap.add_argument("--llm-hidden", type=int, default=192)
    ap.add_argument("--llm-heads", type=int, default=6)
    ap.add_argument("--llm-inter", type=int, default=512)
    ap.add_argument("--llm-layers", type=int, default=4)
    ap.add_argument("--procs", type=int, default=2,
                    help="training processes, each with its share of every batch (tools/shapes/parallel.py)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per training process")
    ap.add_argument("--device", default="cpu", help="torch device to train on (cpu; cuda for quick comparisons of "
                    "recipes on a GPU machine: the shipped recipe is the CPU's)")
    ap.add_argument("--init-from", help="continue training the model in this folder (its weights and tokenizer)")
    ap.add_argument("--data-seed", type=int, help="seed of the training pictures (default: --seed)")
    ap.add_argument("--tower-steps", type=int, default=2000, help="stage 1: vision tower alone (0: skip)")
    ap.add_argument("--tower-batch", type=int, default=128)
    ap.add_argument("--tower-lr", type=float, default=2e-3)
    ap.add_argument("--aux-weight", type=float, default=0.5, help="weight of the per-patch auxiliary loss (0: off)")
    ap.add_argument("--attend-weight", type=float, default=0.5,
                    help="weight of the training-only loss on where question words naming a shape or colour look "
                         "(tools/shapes/word_attention.py; 0: off)")
    ap.add_argument("--attend-targets", choices=["area", "centres"], default="area",
                    help="where the words should look (tools/shapes/word_attention.py): area (run M) or centres (runs Q/R)")
    ap.add_argument("--answer-attend-weight", type=float, default=0.5,
                    help="weight of the training-only loss on where the answers look in the second decoder layer "
                         "(tools/shapes/answer_attention.py; 0: off)")
    ap.add_argument("--answer-picture-heads", type=int, default=4,
                    help="how many second-layer heads the answer-attention loss sends evenly over the picture")
    ap.add_argument("--answer-area-weight", type=float, default=0.5,
                    help="weight of the training-only loss on where the answers look in the third decoder layer: "
                         "the tokens of the kind or colour the question names (answer_attention.AnswerArea; 0: off)")
    ap.add_argument("--place-weight", type=float, default=0.0,
                    help="within the auxiliary loss: weight of reading each picture token's row and column from the "
                         "projector's output (0: off)")
    ap.add_argument("--scene-weight", type=float, default=1.0,
                    help="weight of the scene code loss (tools/shapes/scene_code.py) on the mean of each picture's "
                         "projector output, in stage 1 (which then trains the projector too) and within the "
                         "auxiliary loss of stage 2 (0: off)")
    ap.add_argument("--tower-lr-scale", type=float, default=1.0, help="stage 2: the tower's learning rate is --lr times this")
    ap.add_argument("--weights", default=TRAIN_WEIGHTS,
                    help="how often each kind of question is asked in training, e.g. is_there=2,where=3 (the "
                         "others keep their weights in questions.py, which validation and the test set use)")
    ap.add_argument("--keep-heads", action="store_true", help="also save the training-only heads (aux_heads.pt), "
                    "for --init-from")
    ap.add_argument("--val", type=int, default=400, help="validation questions")
    ap.add_argument("--eval-every", type=int, default=400)
    args = ap.parse_args()

    t0 = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)

    # validation asks with the default weights of each kind of question (as the held-out test set does)
    val_imgs, _, val = make_samples(args.seed + VAL_SEED_OFFSET, args.val // 2, procs=args.procs * args.threads)
    val = val[: args.val]
    if args.weights:
        set_weights(dict((k, float(v)) for k, v in (kv.split("=") for kv in args.weights.split(","))))
    data_seed = args.seed if args.data_seed is None else args.data_seed
    log(f"drawing {args.scenes} training pictures (seed {data_seed}) ...")
    train_imgs, train_scenes, train = make_samples(data_seed, args.scenes, per_scene=args.turns,
                                                   conversations=args.turns > 1, procs=args.procs * args.threads)
    log(f"  {len(train)} training conversations, {len(val)} validation questions ({time.time() - t0:.0f} s)")

    os.makedirs(os.path.join(args.out, "llm"), exist_ok=True)
    tok_path = os.path.join(args.out, "llm", "tokenizer.model")
    if args.init_from:  # continue a model: its tokenizer stays
        shutil.copyfile(os.path.join(args.init_from, "llm", "tokenizer.model"), tok_path)
    else:
        train_tokenizer([VICUNA_SYSTEM + " USER: " + t["question"] + " ASSISTANT: " + t["answer"]
                         for s in train for t in s.get("turns", [s])], tok_path, args.vocab)
    tok = LlamaSlowTokenizer(tok_path)
    vocab = tok.sp.get_piece_size()
    eos = tok.sp.eos_id()
    d = dims(vocab, args.seed, args.image_size, args.llm_hidden, args.llm_heads, args.llm_inter, args.llm_layers)

    train_px = preprocess(train_imgs, d["image_size"])
    S = d["image_size"]
    labels = patch_labels(np.stack([label_mask(sc, S) for sc in train_scenes]), d["patch_size"], N_LABELS)
    centres = torch.from_numpy(np.stack([centre_cells(sc, S, d["patch_size"]) for sc in train_scenes]))
    counts = picture_counts(train_scenes)
    scene_code = scene_code_targets(train_scenes)
    val_px = preprocess(val_imgs, d["image_size"])
    del train_imgs, val_imgs
    labels_cpu, centres_cpu = labels, centres  # for the attention targets, built in Python
    dev = torch.device(args.device)
    train_px, labels, centres, counts, scene_code, val_px = (
        x.to(dev) for x in (train_px, labels, centres, counts, scene_code, val_px))
    enc, val_enc = Encoded(train, tok, eos), Encoded(val, tok, eos)
    log(f"  tokenizer: {vocab} pieces; prompt prefix {len(enc.prefix)} tokens ({time.time() - t0:.0f} s)")

    model = VilaShapes(d)
    if args.init_from:
        load_checkpoint(model, args.init_from)
        log(f"  continuing from the weights in {args.init_from}")
    model.to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    # training only, not part of the model: read what each patch shows, and whose centre it holds, from the
    # tower's selected features; and each picture token's row and column from the projector's output (so
    # the language model gets where a token is in what it reads from it, not only in attention scores)
    heads = torch.nn.ModuleDict({"patch": torch.nn.Linear(d["v_hidden"], N_LABELS),
                                 "centre": torch.nn.Linear(d["v_hidden"], N_LABELS),
                                 "place": torch.nn.Linear(d["hidden"], 2),
                                 "scene": torch.nn.Linear(d["hidden"], N_CLASSES)}).to(dev)
    # (row, column) of each picture token, scaled to [0, 1]; a regression, which is satisfied once the place
    # is readable (a classification loss kept growing the place features until they drowned what the token
    # shows: run O in EXPERIMENTS.md)
    place_target = (token_places(d["grid"]).float() / (d["grid"] // 2 - 1)).to(dev)
    if args.init_from and os.path.exists(os.path.join(args.init_from, "aux_heads.pt")):
        missing = heads.load_state_dict(torch.load(os.path.join(args.init_from, "aux_heads.pt"), map_location=dev), strict=False).missing_keys
        if missing:
            log(f"  training-only heads new here (not in {args.init_from}): {sorted({k.split('.')[0] for k in missing})}")
    def train_on(rank: int, world: int) -> None:
        """Stages 1 and 2 in this process (rank of world, parallel.py); rank 0 logs and writes."""
        torch.set_num_threads(args.threads)
        say = log if rank == 0 else (lambda _msg: None)
        parallel.same_weights(list(model.parameters()) + list(heads.parameters()))
        tower_curve, t_tower = [], time.time()
        if args.tower_steps > 0:
            say(f"stage 1: the vision tower alone, {args.tower_steps} steps of {args.tower_batch} pictures")
            tower_curve = pretrain_tower(model.vision_tower, heads["patch"], heads["centre"], train_px, labels, centres,
                                         counts, args.tower_steps,
                                         args.tower_batch, args.tower_lr, args.seed, say, model.mm_projector,
                                         heads["scene"], scene_code, args.scene_weight, rank, world)
            say("stage 2: the whole model on the conversations")
        words = (WordAttention(tok.sp, train, centre_tokens(centres_cpu, N_LABELS), patches_to_tokens(labels_cpu),
                               args.attend_targets) if args.attend_weight > 0 or args.answer_area_weight > 0 else None)
        attend = words if args.attend_weight > 0 else None
        answer_area = AnswerArea(words) if args.answer_area_weight > 0 else None
        answer_attend = (AnswerAttention(tok.sp, train, ((d["grid"] + 1) // 2) ** 2,
                                                       args.answer_picture_heads) if args.answer_attend_weight > 0
                         else None)
        params = list(model.named_parameters()) + [("aux." + n, p) for n, p in heads.named_parameters()]
        groups = []
        for tower in (True, False):
            for decay in (True, False):
                ps = [p for n, p in params if n.startswith("vision_tower.") == tower and (p.dim() >= 2) == decay]
                groups.append({"params": ps, "weight_decay": 0.05 if decay else 0.0,
                               "scale": args.tower_lr_scale if tower else 1.0})
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.98), eps=1e-8)

        def aux_loss(feats, img, pics):
            loss = soft_patch_loss(heads["patch"], feats, labels[pics]) + centre_loss(heads["centre"], feats, centres[pics])
            if args.place_weight > 0:
                loss = loss + args.place_weight * F.mse_loss(heads["place"](img), place_target.expand(img.shape[0], -1, -1))
            if args.scene_weight > 0:
                loss = loss + args.scene_weight * scene_code_loss(heads["scene"], img, scene_code[pics])
            return loss

        def lr_at(step):
            if step < args.warmup:
                return args.lr * (step + 1) / args.warmup
            t = (step - args.warmup) / max(1, args.steps - args.warmup)
            return args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))

        rng = random.Random(args.seed)
        order, pos = [], 0
        curve, evals = [], []
        t_train = time.time()
        ema = None
        for step in range(args.steps):
            if pos + args.batch > len(order):
                order = list(range(len(train)))
                rng.shuffle(order)
                pos = 0
            idx = parallel.share(order[pos:pos + args.batch], rank, world)
            pos += args.batch
            for g in opt.param_groups:
                g["lr"] = lr_at(step) * g["scale"]
            model.train()
            loss, aux, attend_loss, answer_loss, area_loss = loss_on(
                model, enc, train, train_px, idx, aux_loss if args.aux_weight > 0 else None, attend, answer_attend,
                answer_area)
            total = loss
            if aux is not None:
                total = total + args.aux_weight * aux
            if attend_loss is not None:
                total = total + args.attend_weight * attend_loss
            if answer_loss is not None:
                total = total + args.answer_attend_weight * answer_loss
            if area_loss is not None:
                total = total + args.answer_area_weight * area_loss
            opt.zero_grad(set_to_none=True)
            total.backward()
            parts = {k: v for k, v in (("loss", loss), ("aux_loss", aux), ("attend_loss", attend_loss),
                                       ("answer_attend_loss", answer_loss), ("answer_area_loss", area_loss))
                     if v is not None}
            parts = dict(zip(parts, parallel.sync_grads([p for _, p in params], parts.values())))
            torch.nn.utils.clip_grad_norm_([p for _, p in params], 1.0)
            opt.step()
            ema = parts["loss"] if ema is None else 0.95 * ema + 0.05 * parts["loss"]
            if step % 25 == 0 or step == args.steps - 1:
                curve.append({"step": step, "loss": round(parts["loss"], 5), "loss_ema": round(ema, 5),
                              **{k: round(v, 5) for k, v in parts.items() if k != "loss"}})
                el = time.time() - t_train
                eta = el / (step + 1) * (args.steps - step - 1)
                names = {"aux_loss": "aux", "attend_loss": "attend", "answer_attend_loss": "answer-attend",
                         "answer_area_loss": "answer-area"}
                say(f"step {step + 1}/{args.steps}  loss {parts['loss']:.4f} (ema {ema:.4f})"
                    + "".join(f"  {names[k]} {v:.4f}" for k, v in parts.items() if k != "loss")
                    + f"  lr {lr_at(step):.2e}  {el:.0f} s elapsed, ~{eta:.0f} s left")
            if (step + 1) % args.eval_every == 0 or step == args.steps - 1:
                model.eval()
                acc, kinds = accuracy(model, val_enc, val, val_px, tok, eos, rank, world)
                evals.append({"step": step + 1, "val_accuracy": acc, "by_kind": kinds})
                say(f"  validation exact match after {step + 1} steps: {acc * 100:.1f}%  "
                    + " ".join(f"{k} {r}/{n}" for k, (r, n) in sorted(kinds.items())))
                if step < args.steps - 1 and rank == 0:  # the weights so far (float32 rounded to bf16), to continue from if stopped
                    write_checkpoint(args.out, model, d)
                    torch.save(heads.state_dict(), os.path.join(args.out, "aux_heads.pt"))
                    with open(os.path.join(args.out, "training.json"), "w") as f:
                        json.dump({"unfinished": True, "recipe": vars(args), "dims": d, "evals": evals}, f, indent=1)

        parallel.check_same(list(model.parameters()) + list(heads.parameters()))
        # the model as it is written (bf16): its validation accuracy is the one that counts
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).float())
        model.eval()
        acc_bf16, kinds_bf16 = accuracy(model, val_enc, val, val_px, tok, eos, rank, world)
        say(f"validation exact match with bf16 weights: {acc_bf16 * 100:.1f}%")
        if rank != 0:
            return

        recipe = {k: v for k, v in vars(args).items() if k != "out"}
        write_checkpoint(args.out, model, d)
        heads_path = os.path.join(args.out, "aux_heads.pt")
        if args.keep_heads:
            torch.save(heads.state_dict(), heads_path)
        elif os.path.exists(heads_path):
            os.remove(heads_path)
        with open(os.path.join(args.out, "training.json"), "w") as f:
            json.dump({
                "command": "/usr/bin/python3 tools/shapes/train.py " + " ".join(
                    f"--{k.replace('_', '-')}" + ("" if isinstance(v, bool) else f" {v}")
                    for k, v in recipe.items() if v is not None and v is not False) + f" --out {args.out}",
                "recipe": recipe, "dims": d, "parameters": n_params, "train_questions": len(train),
                "prompt_prefix_tokens": len(enc.prefix), "final_loss_ema": None if ema is None else round(ema, 5), "tower_curve": tower_curve,
                "tower_seconds": round(t_train - t_tower),
                "val_accuracy_bf16": acc_bf16, "val_by_kind_bf16": kinds_bf16, "evals": evals, "train_seconds": round(time.time() - t_train),
                "total_seconds": round(time.time() - t0), "torch": torch.__version__, "curve": curve,
            }, f, indent=1)
            f.write("\n")
        say(f"wrote {args.out} in {time.time() - t0:.0f} s")


    parallel.run(args.procs, train_on)

if __name__ == "__main__":
    main()
