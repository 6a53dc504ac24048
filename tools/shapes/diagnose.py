#!/usr/bin/python3
"""Where a vila-shapes checkpoint goes wrong, on the validation questions of its seed (as train.py draws them).

  /usr/bin/python3 tools/shapes/diagnose.py --model DIR [--scene-pictures 600]

Prints the exact match per kind of question (counts split into total / per kind / per colour) and every
miss with the number of shapes in its picture; and, when the folder holds the training-only heads
(aux_heads.pt, written at each validation or with --keep-heads), how often the scene code
(scene_code.py) read from the mean of each picture's tokens is right on new pictures: what the tokens hold,
apart from what the language model makes of it.
"""
import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import torch  # noqa: E402

from batches import Encoded, greedy, normalise, preprocess  # noqa: E402
from data import make_samples  # noqa: E402
from model import VilaShapes  # noqa: E402
from scene_code import N_CLASSES, scene_code_accuracy, scene_code_targets  # noqa: E402
from scenes import COLOURS, SHAPES  # noqa: E402
from vila_torch import LlamaSlowTokenizer  # noqa: E402
from write_checkpoint import load_checkpoint  # noqa: E402


def sub_kind(sample) -> str:
    if sample["kind"] != "count":
        return sample["kind"]
    q = sample["question"].lower()
    if any(c in q for c in COLOURS):
        return "count-colour"
    return "count-kind" if any(k in q for k in SHAPES) else "count-total"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--val", type=int, default=400)
    ap.add_argument("--scene-pictures", type=int, default=600)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t = json.load(open(os.path.join(args.model, "training.json")))
    d, seed = t["dims"], t["recipe"]["seed"]
    tok = LlamaSlowTokenizer(os.path.join(args.model, "llm", "tokenizer.model"))
    model = VilaShapes(d)
    load_checkpoint(model, args.model)
    model.eval()

    imgs, scenes, val = make_samples(seed + 1000, args.val // 2)  # as train.py's validation
    val = val[:args.val]
    px = preprocess(imgs, d["image_size"])
    enc = Encoded(val, tok, tok.sp.eos_id())
    right, total, misses = collections.Counter(), collections.Counter(), []
    for s in range(0, len(val), 64):
        idx = list(range(s, min(len(val), s + 64)))
        for i, ids in zip(idx, greedy(model, enc, val, px, idx, tok.sp.eos_id())):
            got, k = tok.decode(ids).strip(), sub_kind(val[i])
            total[k] += 1
            if got == val[i]["answer"]:
                right[k] += 1
            else:
                misses.append((k, val[i]["question"], val[i]["answer"], got, len(scenes[val[i]["images"][0]].shapes)))
    print(f"validation exact match {sum(right.values())}/{len(val)}")
    for k in sorted(total):
        print(f"  {k:14s} {right[k]}/{total[k]}")
    print("misses (kind, question, answer, got, shapes in the picture):")
    for m in sorted(misses):
        print("  ", m)

    heads_path = os.path.join(args.model, "aux_heads.pt")
    if not os.path.exists(heads_path):
        print(f"no {heads_path}: the scene code is not measured")
        return
    head = torch.nn.Linear(d["hidden"], N_CLASSES)
    state = {k[len("scene."):]: v for k, v in torch.load(heads_path).items() if k.startswith("scene.")}
    if not state or state["weight"].shape[0] != N_CLASSES:
        print(f"{heads_path} has no scene code head of this version's {N_CLASSES} classes: not measured")
        return
    head.load_state_dict(state)
    imgs, scenes, _ = make_samples(seed + 1000, args.scene_pictures)
    with torch.no_grad():
        tokens = model.encode_images(normalise(preprocess(imgs, d["image_size"])))
    acc = scene_code_accuracy(head, tokens, scene_code_targets(scenes))
    print(f"scene code on {len(scenes)} new pictures: " + ", ".join(f"{k} {v * 100:.1f}%" for k, v in acc.items()))


if __name__ == "__main__":
    main()
