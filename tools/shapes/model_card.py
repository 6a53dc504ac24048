#!/usr/bin/python3
"""Write the README of a trained vila-shapes folder from what its training and evaluation recorded
(training.json in the folder, results.json of the held-out set), so the card never restates numbers by hand.

  /usr/bin/python3 tools/shapes/model_card.py --model models/vila-shapes \
      --results test/fixtures/vila-shapes-heldout/results.json [--rerun RUN_DIR:RERUN_RESULTS.json]
"""
import argparse
import json
import os

from evaluate import weights_digest


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def by_kind(kinds: dict) -> str:
    return ", ".join(f"{k} {r}/{n}" for k, (r, n) in sorted(kinds.items()))


def folder_bytes(d: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--rerun", help="RUN_DIR:RESULTS_JSON of a second run of the same recipe with another seed")
    ap.add_argument("--rerun-remark", default="", help="a sentence on how the rerun was run (e.g. what ran beside it)")
    args = ap.parse_args()
    t = json.load(open(os.path.join(args.model, "training.json")))
    res = json.load(open(args.results))
    if res["model_weights_sha256"] != weights_digest(args.model):
        raise SystemExit(f"{args.results} belongs to other weights than those in {args.model}")
    d, r = t["dims"], t["recipe"]
    last = t["tower_curve"][-1] if t["tower_curve"] else {}
    lines = [
        "# vila-shapes",
        "",
        "A small model of the exact VILA 1.5 architecture, trained from scratch on the CPU on synthetic pictures of",
        "shapes, so that vila-ts does its real job (look at a picture, answer a question about it) with no download.",
        "It is the default `--model` of every `vila` command.",
        "",
        "```sh",
        'npx vila generate --image examples/two-circles.png "How many circles are there?"',
        "```",
        "",
        "## What it is",
        "",
        f"- {t['parameters']:,} parameters, bf16 safetensors, {folder_bytes(args.model) / 1e6:.1f} MB on disk, in the",
        "  published folder layout (`llm/`, `vision_tower/`, `mm_projector/`, `config.json`).",
        f"- Vision tower: SigLIP, {d['image_size']} px input, patch {d['patch_size']} ({d['grid']}x{d['grid']} patches),"
        f" hidden {d['v_hidden']}, {d['v_layers']} layers, features from layer {d['select_layer']}.",
        f"- Projector: `mlp_downsample` (2x2 patches per token: {((d['grid'] + 1) // 2) ** 2} tokens per picture).",
        f"- Language model: Llama, hidden {d['hidden']}, {d['layers']} layers, {d['heads']} heads, intermediate"
        f" {d['inter']}; SentencePiece BPE `tokenizer.model` with {d['vocab']} pieces; `vicuna_v1` template.",
        "- What it knows: one to three shapes (circle, square, triangle, star) in six colours (red, green, blue,",
        "  yellow, orange, purple) on light or dark, flat, gradient or speckled backgrounds; questions about the",
        "  shape, the colour, how many, where (left/right/top/bottom), which is bigger, which is on the left or",
        "  right, is there a ..., and about two pictures at once. Anything else gets a confident wrong answer.",
        "",
        "## How it was trained",
        "",
        "```sh",
        t["command"],
        "```",
        "",
        f"- Data: {r['scenes']:,} pictures drawn from seed {r.get('data_seed') or r['seed']} by `tools/shapes/data.py`,"
        f" {r['turns']} questions each asked as one multi-turn conversation ({t['train_questions']:,} conversations);"
        f" validation questions from seed {r['seed'] + 1000}; the held-out test set from seed {res['seed']}.",
        f"- Stage 1 ({t['tower_seconds']} s): the vision tower"
        + (" and projector" if r.get("scene_weight") else "") + f" alone, {r['tower_steps']} steps of {r['tower_batch']}"
        f" pictures, AdamW lr {r['tower_lr']}, with training-only heads (what each patch shows, whose centre it"
        " holds, counts and kinds present"
        + (f"; {r['scene_weight']} x the scene code of the mean of each picture's tokens, `tools/shapes/scene_code.py`"
           if r.get("scene_weight") else "") + ")"
        + (f"; at the end, kinds present right on {pct(last['kinds_right'])} and all counts right on"
           f" {pct(last['all_counts_right'])} of the last {r['tower_batch'] // r.get('procs', 1)} training pictures one process saw." if last else "."),
        f"- Stage 2 ({t['train_seconds']} s): everything, {r['steps']} steps of {r['batch']} conversations, AdamW lr"
        f" {r['lr']} (tower x{r.get('tower_lr_scale', 1.0)}), warm-up {r['warmup']}, cosine; loss on the answers and"
        f" `</s>`, plus {r['aux_weight']} x the training-only losses on the tower's patches and the projector's"
        " tokens (what each patch shows, whose centre it holds"
        + (", the scene code" if r.get("scene_weight") else "") + f"), plus {r['attend_weight']} x the loss on"
        " where question words naming a shape or colour look in the first decoder layer"
        " (`tools/shapes/word_attention.py`)"
        + (f", plus {r['answer_attend_weight']} x the loss on where each answer looks in the second (one head at the"
           f" words the question names, {r['answer_picture_heads']} evenly over the picture;"
           " `tools/shapes/answer_attention.py`)" if r.get("answer_attend_weight") else "")
        + (f", plus {r['answer_area_weight']} x the loss on where one head of the third layer looks at the answer to"
           " what a named thing looks like (at the tokens showing it, `answer_attention.AnswerArea`)"
           if r.get("answer_area_weight") else "")
        + f"; kinds of question weighted {r['weights']} (validation and the test set use the weights in"
        " `questions.py`).",
        f"- Final training loss (moving average): {t['final_loss_ema']}. Whole run: {t['total_seconds'] / 60:.0f} min"
        f" on 2 CPU cores ({r.get('procs', 1)} training process{'es' if r.get('procs', 1) > 1 else ''} of"
        f" {r['threads']} thread{'s' if r['threads'] > 1 else ''}, `tools/shapes/parallel.py`; PyTorch {t['torch']},"
        " OpenBLAS).",
        "",
        "![loss and validation accuracy](training.svg)",
        "",
        "## How well it answers",
        "",
        f"- Validation (bf16 weights, {sum(n for _, n in t['val_by_kind_bf16'].values())} questions):"
        f" {pct(t['val_accuracy_bf16'])} exact match.",
        f"- Held-out test set (`test/fixtures/vila-shapes-heldout/`, {res['questions']} questions): "
        f"{pct(res['accuracy_reference'])} in PyTorch (`tools/vila_torch.py`), {pct(res['accuracy_trained_graph'])}"
        " with the training graph; by kind: " + by_kind(res["reference_by_kind"]) + ".",
        "- The TypeScript runtime is held to the same questions by `test/model/vila_shapes.test.ts`.",
    ]
    if args.rerun:
        run_dir, _, rerun_results = args.rerun.partition(":")
        t2 = json.load(open(os.path.join(run_dir, "training.json")))
        res2 = json.load(open(rerun_results))
        lines += [
            "",
            "## Reproducibility",
            "",
            f"The same recipe with `--seed {t2['recipe']['seed']}` (other pictures, other initial weights):"
            f" validation {pct(t2['val_accuracy_bf16'])}, held-out {pct(res2['accuracy_reference'])}"
            f" ({by_kind(res2['reference_by_kind'])}), final loss {t2['final_loss_ema']},"
            f" {t2['total_seconds'] / 60:.0f} min." + (f" {args.rerun_remark}" if args.rerun_remark else ""),
        ]
    lines += ["", "Every run tried on the way, with its figures: `tools/shapes/EXPERIMENTS.md`.", ""]
    with open(os.path.join(args.model, "README.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
