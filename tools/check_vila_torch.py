#!/usr/bin/python3
"""Self-checks of tools/vila_torch.py and the fixture generator.

  /usr/bin/python3 tools/check_vila_torch.py [--fixture test/fixtures/tiny-vila] [--upstream DIR]

1. DownSampleBlock (upstream reshape/permute) against the closed form of spec §4 on distinct values, grids 1..8.
2. safetensors writer -> reader round trip, header layout (metadata first, sorted names, 8-byte padding).
3. Tokeniser: dummy-prefix SentencePiece == HF-literal procedure (asserted inside vila_torch) == spm_encode CLI.
4. Incremental (KV-cache) greedy logits == full causal recompute; float32 logits vs a float64 evaluation.
4b. Projector: upstream's MultimodalProjector module structure rebuilt from torch.nn (base_projector.py, vila1.5
   6b941da), mm_projector/model.safetensors loaded into it with load_state_dict(strict=True), == VilaTorch.project.
5. Upstream fixture (tinychat-awq, default /work/shared/fixtures/tinychat-awq): vision tower + projector on
   images/rings.png against expected.json debug_rings_png (computed by upstream-faithful code).
Exit status 1 if any check fails.
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_vila  # noqa: E402
from vila_torch import VilaTorch, build_prompt, read_safetensors  # noqa: E402

FAIL = []


def report(name: str, ok: bool, detail: str) -> None:
    print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}")
    if not ok:
        FAIL.append(name)


def check_downsample() -> None:
    worst = 0
    for g in range(1, 9):
        C = 3
        feats = torch.arange(g * g * C, dtype=torch.float32).view(g * g, C) + 1  # distinct, non-zero
        got = VilaTorch.downsample(feats)
        gp = g + (g % 2)
        half = gp // 2
        grid = torch.zeros(gp, gp, C)
        grid[:g, :g] = feats.view(g, g, C)  # zero row at the bottom, zero column at the right
        ref = torch.zeros(half * half, 4 * C)
        for i in range(half):  # row pair
            for j in range(half):  # column pair
                t = j * half + i  # column-major
                ref[t] = torch.cat([grid[2 * i, 2 * j], grid[2 * i, 2 * j + 1],
                                    grid[2 * i + 1, 2 * j], grid[2 * i + 1, 2 * j + 1]])
        worst = max(worst, float((got - ref).abs().max()) if got.shape == ref.shape else float("inf"))
    report("downsample == spec §4 closed form (g = 1..8)", worst == 0, f"max abs diff {worst}")


def check_safetensors() -> None:
    g = torch.Generator().manual_seed(5)
    ts = {n: torch.randn(*s, generator=g).to(torch.bfloat16)
          for n, s in [("b.w", (3, 5)), ("a.bias", (7,)), ("z", (1, 1, 9)), ("m.x", (2, 3, 4, 1))]}
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "t.safetensors")
        make_tiny_vila.write_safetensors(p, ts)
        back = read_safetensors(p)
        buf = open(p, "rb").read()
    (n,) = struct.unpack("<Q", buf[:8])
    hdr = buf[8:8 + n].decode()
    keys = list(json.loads(hdr).keys())
    ok = (n % 8 == 0 and keys[0] == "__metadata__" and keys[1:] == sorted(ts)
          and all(torch.equal(back[k], ts[k].float()) for k in ts))
    report("safetensors write/read round trip", ok, f"header {n} bytes, keys {keys}")


def check_tokenizer(m: VilaTorch, cases: list) -> None:
    texts = []
    for c in cases:
        full = build_prompt(c["prompt"], c.get("raw", False), len(c.get("images", [])))
        texts += [t for t in full.split("<image>") if t]
    texts += ["Hello  there!", " leading space", "trailing space ", "  ", "\n\n", "tab\there", "1234567", "ü"]
    mismatches = 0
    for t in texts:
        ours = m.tok.encode(t)[1:]  # raises if dummy-prefix and HF-literal paths disagree
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(t.replace("\n", "\\n"))  # spm_encode reads lines; compare newline-free variants only
            path = f.name
        if "\n" not in t:
            with open(path, "w") as f:
                f.write(t + "\n")
            cli = subprocess.run(["spm_encode", f"--model={os.path.join(m.root, 'llm', 'tokenizer.model')}",
                                  "--output_format=id", path], capture_output=True, text=True, check=True)
            cli_ids = [int(x) for x in cli.stdout.split()]
            if cli_ids != ours:
                mismatches += 1
                print("   spm_encode mismatch", repr(t), cli_ids, ours)
        os.unlink(path)
    report("tokeniser: dummy-prefix == HF-literal (all chunks) == spm_encode (newline-free chunks)",
           mismatches == 0, f"{len(texts)} texts")


def check_model(fixture: str) -> None:
    cases_path = os.path.join(fixture, "cases.json")
    cases = json.load(open(cases_path))
    base = os.path.dirname(os.path.abspath(cases_path))
    torch.set_grad_enabled(False)
    m32 = VilaTorch(fixture)
    check_tokenizer(m32, cases)
    m64 = VilaTorch(fixture).to(torch.float64)
    exp = None
    ep = os.path.join(fixture, "expected.json")
    if os.path.exists(ep):
        exp = {c["name"]: c for c in json.load(open(ep))["cases"]}
    for c in cases:
        imgs = [os.path.join(base, p) for p in c.get("images", [])]
        r32 = m32.run_case(c["prompt"], c.get("raw", False), imgs)
        r64 = m64.run_case(c["prompt"], c.get("raw", False), imgs, check_recompute=False)
        a, b = r32["logits"].double(), r64["logits"]
        rel = float((a - b).norm() / b.norm())
        report(f"{os.path.basename(fixture)}/{c['name']}: incremental == full recompute",
               r32["recompute_argmax_equal"] and r32["recompute_max_abs_diff"] < 1e-4,
               f"max abs logit diff {r32['recompute_max_abs_diff']:.3g} over {len(r32['step_logits'])} steps")
        report(f"{os.path.basename(fixture)}/{c['name']}: float32 vs float64", rel < 1e-5 and
               r32["greedy_ids"] == r64["greedy_ids"], f"rel L2 {rel:.3g}, greedy equal "
               f"{r32['greedy_ids'] == r64['greedy_ids']}")
        if exp and c["name"] in exp:
            e = exp[c["name"]]
            ref = torch.tensor(e["logits"], dtype=torch.float32).double()  # decimals round-trip in float32
            rel_e = float((a - ref).norm() / ref.norm())
            report(f"{os.path.basename(fixture)}/{c['name']}: reproduces expected.json", rel_e == 0 and
                   e["input_ids"] == r32["input_ids"] and e["greedy_ids"] == r32["greedy_ids"],
                   f"rel L2 {rel_e:.3g}")


def check_cross(fixture: str) -> None:
    """Attention written two other ways: SigLIP layer 0 via torch.nn.MultiheadAttention; Llama layer 0's
    RoPE scores via Meta's complex-pair formulation on de-permuted (Meta-layout) q/k weights; the projector
    through upstream's nn.Module structure."""
    torch.set_grad_enabled(False)
    m = VilaTorch(fixture)
    if m.tower == "siglip":
        check_siglip_mha(m, fixture)
    check_rope(m, fixture)
    check_projector_module(m, fixture)


class _DownSampleBlock(nn.Module):  # no parameters; forward = VilaTorch.downsample on a batch of one
    def forward(self, x):
        return VilaTorch.downsample(x[0])[None]


class _UpstreamProjector(nn.Module):
    """MultimodalProjector.__init__ of base_projector.py (vila1.5 6b941da), C = mm_hidden_size, D = hidden_size."""

    def __init__(self, kind: str, C: int, D: int):
        super().__init__()
        if kind == "identity":
            self.layers = nn.Identity()
        elif kind == "linear":
            self.layers = nn.Linear(C, D)
        elif kind == "mlp_downsample":
            self.layers = nn.Sequential(_DownSampleBlock(), nn.LayerNorm(C * 4), nn.Linear(C * 4, D), nn.GELU(),
                                        nn.Linear(D, D))
        else:
            mm = re.match(r"^mlp(\d+)x_gelu$", kind)
            assert mm, kind
            mods = [nn.Linear(C, D)]
            for _ in range(1, int(mm.group(1))):
                mods += [nn.GELU(), nn.Linear(D, D)]
            self.layers = nn.Sequential(*mods)

    def forward(self, x):
        return self.layers(x)


def check_projector_module(m: VilaTorch, fixture: str) -> None:
    s2 = getattr(m, "s2_scales", None)  # S2: mm_hidden_size = hidden_size x number of scales
    C, D = m.vcfg["hidden_size"] * (len(s2) if s2 else 1), m.lcfg["hidden_size"]
    mod = _UpstreamProjector(m.projector, C, D)
    try:
        mod.load_state_dict(m.pw, strict=True)
    except RuntimeError as e:
        report(f"{os.path.basename(fixture)}: {m.projector} projector == upstream nn.Module (strict state dict)", False,
               str(e).splitlines()[0])
        return
    L = 25 if m.projector == "mlp_downsample" else 23
    x = torch.randn(L, C, generator=torch.Generator().manual_seed(6))
    ref = mod(x[None])[0]
    got = m.project(x)
    d = float((got - ref).abs().max()) if got.shape == ref.shape else float("inf")
    report(f"{os.path.basename(fixture)}: {m.projector} projector == upstream nn.Module (strict state dict)",
           d < 1e-5, f"keys {sorted(m.pw)}, out {list(got.shape)}, max abs diff {d:.3g}")


def check_siglip_mha(m: VilaTorch, fixture: str) -> None:
    C, nh = m.vcfg["hidden_size"], m.vcfg["num_attention_heads"]
    w, p = m.vw, "vision_model.encoder.layers.0."
    x = torch.randn(11, C, generator=torch.Generator().manual_seed(3))
    mha = torch.nn.MultiheadAttention(C, nh, batch_first=True)
    mha.in_proj_weight.copy_(torch.cat([w[p + f"self_attn.{n}_proj.weight"] for n in "qkv"]))
    mha.in_proj_bias.copy_(torch.cat([w[p + f"self_attn.{n}_proj.bias"] for n in "qkv"]))
    mha.out_proj.weight.copy_(w[p + "self_attn.out_proj.weight"])
    mha.out_proj.bias.copy_(w[p + "self_attn.out_proj.bias"])
    ref = mha(x[None], x[None], x[None], need_weights=False)[0][0]
    got = m.siglip_attention(x, p)
    d = float((got - ref).abs().max())
    report(f"{os.path.basename(fixture)}: SigLIP attention == nn.MultiheadAttention", d < 1e-5, f"max abs diff {d:.3g}")



def check_rope(m: VilaTorch, fixture: str) -> None:
    lc, lw = m.lcfg, m.lw
    D, H, KV = lc["hidden_size"], lc["num_attention_heads"], lc["num_key_value_heads"]
    hd = D // H
    T = 37
    h = torch.randn(T, D, generator=torch.Generator().manual_seed(4))
    wq, wk = lw["model.layers.0.self_attn.q_proj.weight"], lw["model.layers.0.self_attn.k_proj.weight"]
    pos = torch.arange(100, 100 + T)
    cos, sin = m.rope_cos_sin(pos)
    q = torch.nn.functional.linear(h, wq).view(T, H, hd).transpose(0, 1)
    k = torch.nn.functional.linear(h, wk).view(T, KV, hd).transpose(0, 1)
    q = q * cos[None] + m.rotate_half(q) * sin[None]
    k = k * cos[None] + m.rotate_half(k) * sin[None]
    s_hf = torch.matmul(q, k.repeat_interleave(H // KV, dim=0).transpose(1, 2))

    def unpermute(wt, n):  # HF convert_llama_weights_to_hf permute() inverse
        return wt.view(n, 2, hd // 2, D).transpose(1, 2).reshape(n * hd, D)

    qm = torch.nn.functional.linear(h.double(), unpermute(wq, H).double()).view(T, H, hd // 2, 2)
    km = torch.nn.functional.linear(h.double(), unpermute(wk, KV).double()).view(T, KV, hd // 2, 2)
    inv = 1.0 / (lc["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    cis = torch.polar(torch.ones(T, hd // 2, dtype=torch.float64), pos.double()[:, None] * inv[None])
    qc = torch.view_as_complex(qm.contiguous()) * cis[:, None]
    kc = torch.view_as_complex(km.contiguous()) * cis[:, None]
    qr = torch.view_as_real(qc).reshape(T, H, hd).transpose(0, 1)
    kr = torch.view_as_real(kc).reshape(T, KV, hd).transpose(0, 1)
    kv_of_head = torch.arange(H) // (H // KV)  # GQA: query head h reads KV head h // (H / KV)
    s_meta = torch.matmul(qr, kr[kv_of_head].transpose(1, 2))
    d = float((s_hf.double() - s_meta).abs().max() / s_meta.abs().max())
    report(f"{os.path.basename(fixture)}: rotate-half RoPE scores == Meta complex RoPE (float64)", d < 1e-5,
           f"max rel diff {d:.3g} at positions 100..{100 + T - 1}")


def check_upstream(up: str) -> None:
    torch.set_grad_enabled(False)
    m = VilaTorch(up)
    exp = json.load(open(os.path.join(up, "expected.json")))["debug_rings_png"]
    dbg = {}
    po = m.encode_image(os.path.join(up, exp["image"]), dbg)
    px, vf = dbg["pixel_values"], dbg["vision_features"]

    def cmp(name, got, ref):
        got = np.asarray(got, dtype=np.float64).reshape(-1)
        ref = np.asarray(ref, dtype=np.float64).reshape(-1)
        d = float(np.max(np.abs(got - ref)))
        scale = float(np.max(np.abs(ref)))
        report(f"tinychat-awq rings.png {name}", d <= 1e-5 * max(scale, 1.0), f"max abs diff {d:.3g} (|ref| max {scale:.3g})")

    cmp("pixel_values[0,0,:6]", px[0, 0, :6], exp["pixel_values[0,0,:6]"])
    cmp("pixel_values_sum", float(px.double().sum()), exp["pixel_values_sum"])
    cmp("embeddings_out_row0[:8]", dbg["embeddings_out"][0, :8], exp["embeddings_out_row0[:8]"])
    cmp("vision_features_row0[:8]", vf[0, :8], exp["vision_features_row0[:8]"])
    cmp("vision_features_row15[:8]", vf[15, :8], exp["vision_features_row15[:8]"])
    cmp("vision_features_sum", float(vf.double().sum()), exp["vision_features_sum"])
    cmp("projector_out_row0[:8]", po[0, :8], exp["projector_out_row0[:8]"])
    cmp("projector_out_row1[:8]", po[1, :8], exp["projector_out_row1[:8]"])
    cmp("projector_out_row3[:8]", po[3, :8], exp["projector_out_row3[:8]"])
    cmp("projector_out_sum", float(po.double().sum()), exp["projector_out_sum"])
    report("tinychat-awq shapes", list(vf.shape) == exp["vision_features_shape"] and
           list(po.shape) == exp["projector_out_shape"], f"{list(vf.shape)} {list(po.shape)}")
    # the same tokeniser conventions on the upstream fixture's cases
    up_cases = json.load(open(os.path.join(up, "expected.json")))["cases"]
    ok = True
    for c in up_cases:
        from vila_torch import tokenizer_image_token
        ids = tokenizer_image_token(c["prompt"], m.tok)
        ok &= ids == c["input_ids"]
    report("tinychat-awq input_ids (tokenizer_image_token, raw prompts)", ok, f"{len(up_cases)} cases")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", action="append", default=[])
    ap.add_argument("--upstream", default="/work/shared/fixtures/tinychat-awq")
    args = ap.parse_args()
    check_downsample()
    check_safetensors()
    for fx in args.fixture:
        check_model(fx)
        check_cross(fx)
    if args.upstream and os.path.isdir(args.upstream):
        check_upstream(args.upstream)
    print("FAILED: " + ", ".join(FAIL) if FAIL else "all checks passed")
    sys.exit(1 if FAIL else 0)


if __name__ == "__main__":
    main()
