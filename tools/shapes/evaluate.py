#!/usr/bin/python3
"""Held-out evaluation of vila-shapes in PyTorch, and the held-out set the TypeScript test asks.

  /usr/bin/python3 tools/shapes/evaluate.py --model models/vila-shapes \
      --heldout test/fixtures/vila-shapes-heldout [--seed 424242] [--questions 300] [--write-set]

--write-set draws the held-out pictures and questions (seed differs from training and validation) and
writes them as PNG files and questions.jsonl. Then the model is asked every question twice in PyTorch:
  - "trained": the training graph (tools/shapes/model.py) with the folder's bf16 weights;
  - "reference": tools/vila_torch.py, the independent implementation that reads the folder as VILA does;
greedy decoding until </s>, exact match of the stripped answer. Results go to results.json next to the
questions, with a digest of the weights they belong to.
"""
import argparse
import hashlib
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
from batches import Encoded, greedy, preprocess  # noqa: E402
from data import make_samples  # noqa: E402
from model import VilaShapes  # noqa: E402
from PIL import Image  # noqa: E402
from vila_torch import IMAGE_TOKEN_INDEX, VilaTorch, build_prompt, tokenizer_image_token  # noqa: E402
from write_checkpoint import WEIGHT_FILES, load_checkpoint  # noqa: E402


def weights_digest(model_dir: str) -> str:
    h = hashlib.sha256()
    for f in WEIGHT_FILES.values():  # llm, vision_tower, mm_projector: the order the TS test hashes in
        with open(os.path.join(model_dir, f), "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def write_set(out: str, seed: int, n: int) -> None:
    images, _, samples = make_samples(seed, n // 2 + n // 10 + 8)  # two questions a picture, pairs use two
    if len(samples) < n:
        raise SystemExit(f"drew only {len(samples)} questions, wanted {n}")
    samples = samples[:n]
    used = sorted({i for s in samples for i in s["images"]})
    names = {i: f"images/{k:04d}.png" for k, i in enumerate(used)}
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    for i in used:
        images[i].save(os.path.join(out, names[i]), optimize=True)
    with open(os.path.join(out, "questions.jsonl"), "w") as f:
        for s in samples:
            f.write(json.dumps({"images": [names[i] for i in s["images"]], "question": s["question"],
                                "answer": s["answer"], "kind": s["kind"]}) + "\n")


def read_set(heldout: str):
    with open(os.path.join(heldout, "questions.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def trained_answers(model_dir: str, heldout: str, qs, ref: VilaTorch):
    cfg = json.load(open(os.path.join(model_dir, "training.json")))
    model = VilaShapes(cfg["dims"])
    load_checkpoint(model, model_dir)
    model.eval()
    paths = sorted({p for q in qs for p in q["images"]})
    slot = {p: i for i, p in enumerate(paths)}
    px = preprocess([Image.open(os.path.join(heldout, p)) for p in paths], cfg["dims"]["image_size"])
    samples = [{"images": [slot[p] for p in q["images"]], "question": q["question"], "answer": q["answer"]} for q in qs]
    enc = Encoded(samples, ref.tok, ref.lcfg["eos_token_id"])
    out = []
    for s in range(0, len(samples), 64):
        idx = list(range(s, min(len(samples), s + 64)))
        out += [ref.tok.decode(ids).strip() for ids in greedy(model, enc, samples, px, idx, ref.lcfg["eos_token_id"])]
    return out


@torch.no_grad()
def reference_answer(ref: VilaTorch, heldout: str, q, max_new: int = 12) -> str:
    ids = tokenizer_image_token(build_prompt(q["question"], False, len(q["images"])), ref.tok)
    assert ids.count(IMAGE_TOKEN_INDEX) == len(q["images"])
    x = ref.splice(ids, [ref.encode_image(os.path.join(heldout, p)) for p in q["images"]])
    cache, out = [], []
    h = ref.llm_forward(x, 0, cache)
    pos = x.shape[0]
    for _ in range(max_new):
        nxt = int(torch.argmax(ref.logits(h[-1])))
        if nxt == ref.lcfg["eos_token_id"]:
            break
        out.append(nxt)
        h = ref.llm_forward(ref.embed([nxt]), pos, cache)
        pos += 1
    return ref.tok.decode(out).strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--seed", type=int, default=424242)
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--write-set", action="store_true")
    ap.add_argument("--results", help="where to write the results (default HELDOUT/results.json)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.write_set:
        write_set(args.heldout, args.seed, args.questions)
    qs = read_set(args.heldout)
    ref = VilaTorch(args.model)
    trained = trained_answers(args.model, args.heldout, qs, ref)
    reference = []
    for i, q in enumerate(qs):
        reference.append(reference_answer(ref, args.heldout, q))
        if (i + 1) % 50 == 0:
            print(f"  reference: {i + 1}/{len(qs)} questions", file=sys.stderr, flush=True)
    acc = lambda xs: sum(a == q["answer"] for a, q in zip(xs, qs)) / len(qs)  # noqa: E731
    kinds = {}
    for a, q in zip(reference, qs):
        k = kinds.setdefault(q["kind"], [0, 0])
        k[0] += a == q["answer"]
        k[1] += 1
    res = {
        "model_weights_sha256": weights_digest(args.model), "seed": args.seed, "questions": len(qs),
        "accuracy_trained_graph": acc(trained), "accuracy_reference": acc(reference),
        "answers_differ_between_pytorch_graphs": sum(a != b for a, b in zip(trained, reference)),
        "reference_by_kind": kinds,
        "answers": reference,
        "misses": [{"i": i, "question": q["question"], "answer": q["answer"], "got": a, "images": q["images"]}
                   for i, (a, q) in enumerate(zip(reference, qs)) if a != q["answer"]],
    }
    path = args.results or os.path.join(args.heldout, "results.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in res.items() if k not in ("answers", "misses")}, indent=1))


if __name__ == "__main__":
    main()
