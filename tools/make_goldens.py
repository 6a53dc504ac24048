#!/usr/bin/python3
"""Goldens for a VILA 1.5 checkpoint from the independent PyTorch reference (tools/vila_torch.py).

  /usr/bin/python3 tools/make_goldens.py --model DIR --cases CASES.json --out expected.json

CASES.json: [{"name", "prompt", "raw": bool, "images": [paths relative to CASES.json's folder], "note"?}]
raw = false applies run_vila.py + the vicuna_v1 template ("<image>\\n" x N prepended when the prompt has
no "<image>"); raw = true tokenises the prompt verbatim (still with VILA's tokenizer_image_token).
Floats derived from float32 tensors are written as the shortest decimal that round-trips in float32;
*_sum values are float64 sums of the float32 tensor.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vila_torch import IMAGE_TOKEN_INDEX, VilaTorch  # noqa: E402


def f32(x) -> float:
    """Shortest decimal that round-trips to this float32 (numpy's Dragon4 'unique' repr)."""
    return float(repr(np.float32(x)).replace("np.float32(", "").rstrip(")"))


def f32list(t) -> list:
    return [f32(v) for v in torch.as_tensor(t).reshape(-1).tolist()]


def tsum(t) -> float:
    return float(torch.as_tensor(t).double().sum())


def model_summary(m: VilaTorch) -> dict:
    lc, vc = m.lcfg, m.vcfg
    S, p = vc["image_size"], vc["patch_size"]
    g = S // p
    s2 = getattr(m, "s2_scales", None)
    if s2:  # S2 output map: the smallest scale's merged grid
        g = g * (s2[0] // m.s2_split)
    L = g * g + (1 if m.tower == "intern" else 0) - (1 if m.select_feature == "patch" else 0)
    gf = int(L ** 0.5)  # DownSampleBlock's h = w = int(sqrt(L))
    gp = gf + (gf % 2)
    C, D = vc["hidden_size"] * (len(s2) if s2 else 1), lc["hidden_size"]
    if m.projector == "mlp_downsample":
        projector = (f"mlp_downsample: {gf}x{gf} grid{' + zero row (bottom) and column (right)' if gf % 2 else ''} "
                     f"-> {(gp // 2) ** 2} tokens x {4 * C} (column-major) -> LayerNorm(1e-5) "
                     f"-> Linear -> GELU(erf) -> Linear {D}")
        n_tok = (gp // 2) ** 2
    else:
        n_lin = len(m.projector_keys()) // 2
        projector = (f"{m.projector}: {L} tokens x {C} -> "
                     + (" -> GELU(erf) -> ".join([f"Linear {C}->{D}"] + [f"Linear {D}->{D}"] * (n_lin - 1))
                        if n_lin else "identity"))
        n_tok = L
    vkeys = ["image_size", "patch_size", "hidden_size", "intermediate_size", "num_hidden_layers",
             "num_attention_heads", "layer_norm_eps", "hidden_act"]
    if m.tower == "intern":
        vkeys += ["qk_normalization", "qkv_bias"]
    return {
        "llm": {k: lc[k] for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                   "num_key_value_heads", "intermediate_size", "vocab_size",
                                   "rms_norm_eps", "rope_theta", "max_position_embeddings",
                                   "tie_word_embeddings")},
        "head_dim": lc["hidden_size"] // lc["num_attention_heads"],
        "vision_tower": vc["architectures"][0],
        "vision": {k: vc[k] for k in vkeys},
        "vision_grid": g,
        **({"s2_scales": s2, "s2_max_split_size": m.s2_split} if s2 else {}),
        "vision_tokens": L,
        "mm_vision_select_layer": m.select_layer,
        "mm_vision_select_feature": m.select_feature,
        "image_aspect_ratio": m.aspect,
        "projector": projector,
        "image_tokens_per_image": n_tok,
    }


def conventions(m: VilaTorch) -> dict:
    c = dict(CONVENTIONS)
    if m.projector != "mlp_downsample":
        c["projector"] = (f"{m.projector} (base_projector.py MultimodalProjector): no DownSampleBlock, one output "
                          "token per vision feature; linear = nn.Linear (layers.weight/bias); mlpNx_gelu = "
                          "Linear(C->D) then (GELU(erf), Linear(D->D)) x (N-1) (layers.0, layers.2, ...); "
                          "identity = no weights")
    if getattr(m, "s2_scales", None):
        c["images"] = CONVENTIONS["images"].replace("(S,S)", f"(S,S) with S = {m.s2_scales[-1]} (the largest S2 scale)")
        c["s2"] = ("s2wrapper forward with img_sizes = sorted s2_scales, max_split_size, resize_output_to_idx 0: per scale "
                   "F.interpolate(x, size, mode='bicubic') (float32, align_corners False), split_chessboard into n x n "
                   "crops (n = scale / split, crop (i, j) at batch i*n+j), SigLIP features per crop, 'b (h w) c -> b c h w', "
                   "merge_chessboard, F.interpolate(mode='area') to the smallest scale's map, channels concatenated in "
                   "scale order, 'b c h w -> b (h w) c'; embeddings_out_row0 is the first crop of the smallest scale")
    if m.tower == "intern":
        c["images"] = ("PIL Image.open(p).convert('RGB').resize((448, 448)) (BICUBIC; upstream "
                       "InternVisionPreprocessor hard-codes 448), then torchvision ToTensor (float32 u8 / 255) and "
                       "Normalize(mean=(0.485,0.456,0.406), std=(0.229,0.224,0.225)) in float32, CHW. Image paths are "
                       "relative to the folder of cases.json")
        c["vision"] = ("InternViT, float32: conv2d stride=patch; [CLS; patches] + position_embedding; layers "
                       "x += ls1 * proj(attn(RMSNorm(x))), x += ls2 * fc2(gelu_erf(fc1(RMSNorm(x)))); qkv one Linear "
                       "(no bias) split (3, heads, head_dim); q_norm/k_norm RMSNorm over the full width before the "
                       "head split; scores (q * head_dim^-0.5) @ k^T; features = hidden_states[select_layer] (no "
                       "final norm); 'patch' drops token 0 (CLS)")
    return c


CONVENTIONS = {
    "image_token_index": -200,
    "input_ids": "VILA tokenizer_image_token over LlamaTokenizer(legacy=False, add_bos_token=True), "
                 "transformers 4.36 semantics: split on <image>; each chunk -> [BOS] + SentencePiece with "
                 "dummy prefix (empty chunk -> [BOS]); keep one BOS, drop the first token of every chunk, "
                 "one -200 between chunks",
    "template": "raw=false: run_vila.py prepends '<image>\\n' x N when the prompt has no <image>, then "
                "vicuna_v1: '<system> USER: {prompt} ASSISTANT:' (full_prompt); raw=true: prompt verbatim",
    "images": "PIL Image.open(p).convert('RGB'); resize: .resize((S,S)) (BICUBIC, PIL 9.4); pad: expand2square "
              "with (127,127,127) centred then .resize((S,S), BICUBIC); then float32(u8 * (1/255)), "
              "(x - 0.5) / 0.5, CHW. Image paths are relative to the folder of cases.json",
    "vision": "SigLIP, float32; conv2d stride=patch (valid: image_size % patch pixels dropped at right/bottom); "
              "features = hidden_states[mm_vision_select_layer] (hidden_states[0] = embeddings, no "
              "post_layernorm); cls_patch keeps all tokens",
    "projector": "DownSampleBlock (upstream flat_square: odd grid -> zero row at the bottom, then zero column at "
                 "the right; token t = j*(g'/2) + i from cells (2i,2j),(2i,2j+1),(2i+1,2j),(2i+1,2j+1)), "
                 "LayerNorm eps 1e-5 (zero padding included), Linear, GELU(erf), Linear",
    "splicing": "each -200 replaced in order by that image's projector rows; positions 0..L-1",
    "weights": "stored bf16 upcast to float32; all activations float32",
    "logits": "last prompt position, full vocab, float32 as shortest round-trip decimals",
    "greedy": "8 new tokens, argmax, no stop condition (EOS is not special here); greedy_step_margins = "
              "top1 - top2 of the logits that chose each token (incremental KV-cache decode)",
    "debug": "first 8 values and float64 sums of intermediate tensors; *_last = last prompt position; "
             "layer{i}_out_last = residual stream after decoder layer i; final_norm_last = model.norm output",
}

TOLERANCE = {
    "input_ids": "exact",
    "logits": "relative L2 ||x - ref|| / ||ref|| < 1e-4 with float32 activations (a float32 "
              "reimplementation lands near 1e-6); 1e-3 if the runtime rounds activations",
    "greedy_ids": "exact (check greedy_min_margin: a margin below ~1e-4 makes a tie legitimately flip)",
}


def run(model_dir: str, cases_path: str, out_path: str, check: bool = True) -> dict:
    t0 = time.time()
    torch.set_grad_enabled(False)
    m = VilaTorch(model_dir)
    with open(cases_path) as f:
        cases = json.load(f)
    base = os.path.dirname(os.path.abspath(cases_path))
    out_cases = []
    checks = []
    for c in cases:
        paths = [os.path.join(base, p) for p in c.get("images", [])]
        r = m.run_case(c["prompt"], bool(c.get("raw", False)), paths, n_new=8, check_recompute=check)
        ids = r["input_ids"]
        lg = r["logits"]
        margins = []
        for sl in r["step_logits"]:
            top2 = torch.topk(sl, 2).values
            margins.append(f32(top2[0] - top2[1]))
        top5 = torch.topk(lg, 5)
        dbg = {"images": []}
        for path, d in zip(c.get("images", []), r["image_debug"]):
            px, vf, po = d["pixel_values"], d["vision_features"], d["projector_out"]
            dbg["images"].append({
                "image": path,
                "pixel_values_shape": list(px.shape),
                "pixel_values[0,0,:8]": f32list(px[0, 0, :8]),
                "pixel_values[0,S//2,:8]": f32list(px[0, px.shape[1] // 2, :8]),  # row 0 may be pad colour
                "pixel_values_sum": tsum(px),
                "embeddings_out_row0[:8]": f32list(d["embeddings_out"][0, :8]),
                "vision_features_shape": list(vf.shape),
                "vision_features_row0[:8]": f32list(vf[0, :8]),
                "vision_features_row_last[:8]": f32list(vf[-1, :8]),
                "vision_features_sum": tsum(vf),
                "projector_out_shape": list(po.shape),
                "projector_out_row0[:8]": f32list(po[0, :8]),
                "projector_out_row_last[:8]": f32list(po[-1, :8]),
                "projector_out_sum": tsum(po),
            })
            if getattr(m, "s2_scales", None):  # S2 fixtures: every projected value (small), for a relative-L2 check
                dbg["images"][-1]["projector_out"] = f32list(po)
        x = r["inputs_embeds"]
        dbg["embed_last[:8]"] = f32list(x[-1, :8])
        dbg["embed_last_sum"] = tsum(x[-1])
        for i, lo in enumerate(r["llm_debug"]["layer_outs"]):
            dbg[f"layer{i}_out_last[:8]"] = f32list(lo[-1, :8])
            dbg[f"layer{i}_out_last_sum"] = tsum(lo[-1])
        fn = r["llm_debug"]["final_norm"]
        dbg["final_norm_last[:8]"] = f32list(fn[-1, :8])
        dbg["final_norm_last_sum"] = tsum(fn[-1])
        n_img_tok = r["image_debug"][0]["projector_out"].shape[0] if paths else 0
        case = {
            "name": c["name"],
            "note": c.get("note", ""),
            "prompt": c["prompt"],
            "raw": bool(c.get("raw", False)),
            "images": list(c.get("images", [])),
            "full_prompt": r["full_prompt"],
            "input_ids": ids,
            "input_pieces": ["<image>" if t == IMAGE_TOKEN_INDEX else m.tok.id_to_piece(t) for t in ids],
            "n_input_ids": len(ids),
            "n_images": len(paths),
            "image_tokens_per_image": n_img_tok,
            "spliced_length": r["spliced_length"],
            "logits": f32list(lg),
            "logits_rms": f32(torch.sqrt((lg.double() ** 2).mean())),
            "argmax": int(torch.argmax(lg)),
            "top5": [[int(i), f32(v)] for v, i in zip(top5.values.tolist(), top5.indices.tolist())],
            "greedy_ids": r["greedy_ids"],
            "greedy_step_margins": margins,
            "greedy_min_margin": min(margins),
            "greedy_contains_eos": m.lcfg.get("eos_token_id", 2) in r["greedy_ids"],
            "greedy_text_informational": m.tok.decode(r["greedy_ids"]),
            "debug": dbg,
        }
        out_cases.append(case)
        if check:
            checks.append({"case": c["name"], "recompute_max_abs_diff": r["recompute_max_abs_diff"],
                           "recompute_argmax_equal": r["recompute_argmax_equal"]})
    doc = {
        "fixture": os.path.basename(os.path.normpath(model_dir)),
        "produced_with": f"tools/vila_torch.py, torch {torch.__version__} CPU, float32",
        "model": model_summary(m),
        "conventions": conventions(m),
        "tolerance": TOLERANCE,
        "cases": out_cases,
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return {"seconds": round(time.time() - t0, 2), "checks": checks,
            "min_margin": min(cc["greedy_min_margin"] for cc in out_cases),
            "eos": any(cc["greedy_contains_eos"] for cc in out_cases)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-check", action="store_true", help="skip the cached-vs-full recompute check")
    args = ap.parse_args()
    info = run(args.model, args.cases, args.out, check=not args.no_check)
    for ch in info["checks"]:
        assert ch["recompute_argmax_equal"] and ch["recompute_max_abs_diff"] < 1e-3, ch
    print(json.dumps(info))


if __name__ == "__main__":
    main()
