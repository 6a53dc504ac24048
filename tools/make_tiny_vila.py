#!/usr/bin/python3
"""Deterministic generator of tiny random-weight VILA 1.5 checkpoints in the published folder layout.

  /usr/bin/python3 tools/make_tiny_vila.py --out DIR --seed N [--variant default|pad|mixed|intern|s2|s2x3]
                                           [--projector mlp_downsample|linear|mlp2x_gelu|mlp3x_gelu]

Layout written (mirrors a VILA1.5-3b repo and /work/shared/fixtures/tinychat-awq):
  config.json            LlavaLlamaModel / llava_llama with embedded llm_cfg, vision_tower_cfg, mm_projector_cfg
  trainer_state.json     present in the real repos, unused
  README.md              what was generated (dimensions, options, seed)
  llm/                   config.json, generation_config.json, tokenizer_config.json, special_tokens_map.json,
                         tokenizer.model (spm_train BPE), model-0000{1,2}-of-00002.safetensors,
                         model.safetensors.index.json
  vision_tower/          config.json (SiglipVisionModel), preprocessor_config.json, model.safetensors
                         (prefix vision_model., incl. unused post_layernorm.* and the MAP pooling head.*)
  mm_projector/          config.json (mm_projector_type), model.safetensors with upstream's nn.Module keys:
                         mlp_downsample layers.1 (LayerNorm), layers.2, layers.4; linear layers.weight/bias;
                         mlpNx_gelu layers.0, layers.2, ..., layers.2(N-1)

All weights are bf16. Dimensions are drawn from the seed; the variant fixes the structural options:
  default  odd vision grid (padded 2x2 merge), GQA, mm_vision_select_layer -2, cls_patch, resize, rope 1e4
  pad      even vision grid, image_aspect_ratio pad, select_layer -1, MHA, cls_patch, rope_theta != 1e4
  mixed    every option drawn from the seed (grid parity, select layer, aspect, GQA/MHA, rope theta, eps,
           projector type: one of PROJECTORS, drawn last so the other dimensions are those drawn before)
  intern   VILA1.5-40b's tower type: InternViT (InternVisionModel, CLS token, RMSNorm, qk_normalization,
           layer scale), image 448 / patch 14 (upstream InternVisionPreprocessor hard-codes 448 and ImageNet
           mean/std; no preprocessor_config.json is read), select_layer -1, select_feature "patch" (drops CLS:
           32x32 -> 256 image tokens), resize. The LLM side stays Llama-2/vicuna style (not Yi/hermes-2).
  s2       VILA1.5-3b-s2's S2 features: s2 true, s2_max_split_size = image_size (odd grid, image_size % patch > 0
           as in 384/14), s2_scales "S,2S" (1 + 4 crops), mm_hidden_size = 2 x tower hidden, select -2, resize
  s2x3     three scales written "3S,S,2S" (upstream sorts them; 1 + 4 + 9 crops, 3x3 area means), select -1, pad

--projector overrides the projector type (default: mlp_downsample, or drawn from the seed for mixed); it is
the only draw it affects. Projector types (VILA vila1.5 6b941da llava/model/multimodal_projector/base_projector.py,
MultimodalProjector.__init__, with C = mm_hidden_size, D = hidden_size):
  mlp_downsample  self.layers = nn.Sequential(DownSampleBlock(), nn.LayerNorm(4C), nn.Linear(4C, D), nn.GELU(),
                  nn.Linear(D, D))                           -> ceil(g/2)^2 image tokens
  linear          self.layers = nn.Linear(C, D)              -> keys layers.weight, layers.bias; g*g image tokens
  mlpNx_gelu      re.match(r"^mlp(\d+)x_gelu$"): self.layers = nn.Sequential(nn.Linear(C, D), then
                  (nn.GELU(), nn.Linear(D, D)) x (N-1))     -> keys layers.0, layers.2, ..., layers.{2(N-1)}
  identity        IdentityMap (C == D, no weights): not generated (the drawn C and D differ)

mm_vision_select_feature "patch" drops token 0 (upstream vision_encoder.py feature_select). SigLIP has no
CLS token, so with mlp_downsample it leaves g*g-1 tokens and upstream DownSampleBlock cannot form a square
grid (the LayerNorm(4C) then fails): no SigLIP variant uses "patch".
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

import numpy as np
import torch

LICENSE_DIR = "/usr/share/common-licenses"
VARIANTS = ("default", "pad", "mixed", "intern", "s2", "s2x3")
S2_VARIANTS = {"s2": (1, 2), "s2x3": (3, 1, 2)}  # scale factors of the split size, in the order written to s2_scales
FRESH_VARIANTS = ("default", "pad", "mixed", "intern", "s2")  # SigLIP variants of VILA1.5 3b-13b, 40b's InternViT, 3b-s2's S2
PROJECTORS = ("mlp_downsample", "linear", "mlp2x_gelu", "mlp3x_gelu")  # mm_projector_type values generated


# ----------------------------------------------------------------------------- safetensors writer

def write_safetensors(path: str, tensors: dict) -> int:
    """Write bf16 tensors: u64 LE header length, compact JSON header (metadata first, names sorted),
    padded with spaces to a multiple of 8, then contiguous raw little-endian data. Returns data bytes."""
    names = sorted(tensors)
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for n in names:
        t = tensors[n]
        assert t.dtype == torch.bfloat16, n
        raw = t.contiguous().view(torch.int16).numpy().astype("<i2").tobytes()
        header[n] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    return off


def write_json(path: str, obj, sort_keys: bool = True) -> None:
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=sort_keys) + "\n")


# ----------------------------------------------------------------------------- dimensions

def draw_dims(seed: int, variant: str, projector: str = None) -> dict:
    rs = np.random.RandomState((seed * 7919 + VARIANTS.index(variant)) % 2**32)
    pick = lambda xs: xs[rs.randint(len(xs))]  # noqa: E731

    if variant == "default":
        odd_grid, select_layer, aspect, gqa = True, -2, "resize", True
        rope_theta, rms_eps = 10000.0, 1e-5
    elif variant == "pad":
        odd_grid, select_layer, aspect, gqa = False, -1, "pad", False
        rope_theta, rms_eps = pick([500000.0, 1000000.0, 5000000.0]), 1e-5
    elif variant == "intern":
        odd_grid, select_layer, aspect, gqa = False, -1, "resize", True
        rope_theta, rms_eps = 5000000.0, 1e-5
    elif variant in S2_VARIANTS:  # s2: VILA1.5-3b-s2's options; s2x3: three scales, pad, select -1
        odd_grid, select_layer, aspect, gqa = True, (-2 if variant == "s2" else -1), ("resize" if variant == "s2" else "pad"), True
        rope_theta, rms_eps = 10000.0, 1e-5
    else:
        odd_grid = bool(rs.randint(2))
        select_layer = pick([-1, -2])
        aspect = pick(["resize", "pad"])
        gqa = bool(rs.randint(2))
        rope_theta = pick([10000.0, 500000.0, 5000000.0, 31250.0])
        rms_eps = pick([1e-5, 1e-6])

    if variant == "default":  # a 5x5 or 7x7 grid: the padded merge has interior and edge blocks
        grid, patch = pick([5, 7]), pick([10, 14, 16])
    elif variant == "intern":
        grid, patch = 32, 14
    elif variant in S2_VARIANTS:  # odd grid per crop; small patches keep the largest scale small
        grid, patch = pick([5, 7]), pick([6, 7, 8])
    else:
        grid = pick([3, 5, 7]) if odd_grid else pick([2, 4, 6])
        patch = pick([7, 8, 10, 14, 16])
    # like SigLIP-384/14 (27*14 = 378): the conv drops image_size % patch pixels at the right/bottom
    remainder = int(rs.randint(0, patch)) if rs.randint(3) else 0
    if variant == "intern":
        remainder = 0  # 448 = 32 * 14
    if variant in S2_VARIANTS and remainder == 0:
        remainder = 1  # like 384 = 27 * 14 + 6: each crop's last pixels are dropped by the conv
    image_size = grid * patch + remainder
    v_heads = pick([2, 3, 4])
    v_hd = pick([6, 9, 10, 12, 16]) if variant != "intern" else pick([8, 10, 12])
    v_hidden = v_heads * v_hd
    v_inter = int(rs.randint(2 * v_hidden, 4 * v_hidden + 1))
    v_layers = pick([2, 3])

    if gqa:
        # at least 2 KV heads each shared by at least 2 query heads, so that the mapping
        # "query head h uses KV head h // (heads / kv)" differs from h % kv; mixed may draw MQA (kv = 1)
        heads = pick([4, 6, 8])
        kv_choices = [k for k in range(1 if variant == "mixed" else 2, heads) if heads % k == 0 and heads // k >= 2]
        kv = pick(kv_choices)
    else:
        heads = pick([4, 5, 6, 8])
        kv = heads
    hd = pick([10, 12, 14, 16, 18, 22])
    hidden = heads * hd
    inter = int(rs.randint(2 * hidden, int(3.5 * hidden) + 1))
    layers = pick([2, 3])
    vocab = int(rs.randint(800, 1501))
    max_pos = pick([2048, 4096])
    if projector is None:  # drawn after everything else: the dimensions above do not depend on it
        projector = pick(list(PROJECTORS)) if variant == "mixed" else "mlp_downsample"
    assert projector in PROJECTORS, projector
    return dict(
        variant=variant, seed=seed,
        image_size=image_size, patch_size=patch, grid=grid,
        v_hidden=v_hidden, v_heads=v_heads, v_inter=v_inter, v_layers=v_layers,
        select_layer=select_layer, select_feature="patch" if variant == "intern" else "cls_patch",
        aspect=aspect, tower="intern" if variant == "intern" else "siglip",
        hidden=hidden, heads=heads, kv_heads=kv, inter=inter, layers=layers, vocab=vocab,
        rope_theta=rope_theta, rms_eps=rms_eps, max_pos=max_pos, projector=projector,
        # S2 (VisionTowerS2): scales are multiples of the split size = the tower's image_size; the projector
        # takes the channels of every scale (mm_hidden_size = hidden_size x number of scales)
        s2_scales=[k * image_size for k in S2_VARIANTS.get(variant, ())],
        mm_hidden=v_hidden * max(1, len(S2_VARIANTS.get(variant, ()))),
    )


# ----------------------------------------------------------------------------- weights

class Init:
    """Per-tensor deterministic streams (numpy's legacy RandomState: stable across numpy versions)."""

    def __init__(self, seed: int):
        self.seed = seed

    def _rs(self, name: str) -> np.random.RandomState:
        return np.random.RandomState((zlib.crc32(name.encode()) ^ (self.seed * 2654435761)) & 0xFFFFFFFF)

    def normal(self, name: str, shape, std: float, mean: float = 0.0) -> torch.Tensor:
        a = self._rs(name).standard_normal(size=shape).astype(np.float64) * std + mean
        return torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)

    def linear(self, name: str, out_f: int, in_f: int, gain: float = 1.0) -> torch.Tensor:
        return self.normal(name, (out_f, in_f), gain / np.sqrt(in_f))

    def norm_w(self, name: str, n: int) -> torch.Tensor:
        return self.normal(name, (n,), 0.1, 1.0)

    def bias(self, name: str, n: int, std: float = 0.05) -> torch.Tensor:
        return self.normal(name, (n,), std)


def llm_weights(d: dict, ini: Init) -> list:
    """(name, tensor) in HF LlamaForCausalLM state_dict order."""
    D, I, V, hd = d["hidden"], d["inter"], d["vocab"], d["hidden"] // d["heads"]
    kvd = d["kv_heads"] * hd
    out = [("model.embed_tokens.weight", ini.normal("model.embed_tokens.weight", (V, D), 1.0))]
    for i in range(d["layers"]):
        p = f"model.layers.{i}."
        out += [
            (p + "self_attn.q_proj.weight", ini.linear(p + "q", D, D)),
            (p + "self_attn.k_proj.weight", ini.linear(p + "k", kvd, D)),
            (p + "self_attn.v_proj.weight", ini.linear(p + "v", kvd, D)),
            (p + "self_attn.o_proj.weight", ini.linear(p + "o", D, D)),
            (p + "mlp.gate_proj.weight", ini.linear(p + "gate", I, D)),
            (p + "mlp.up_proj.weight", ini.linear(p + "up", I, D)),
            (p + "mlp.down_proj.weight", ini.linear(p + "down", D, I)),
            (p + "input_layernorm.weight", ini.norm_w(p + "ln1", D)),
            (p + "post_attention_layernorm.weight", ini.norm_w(p + "ln2", D)),
        ]
    out += [
        ("model.norm.weight", ini.norm_w("model.norm.weight", D)),
        # untied; gain 3 -> last-position logits RMS ~3, typical greedy margins ~1
        ("lm_head.weight", ini.linear("lm_head.weight", V, D, gain=3.0)),
    ]
    return out


def vision_weights(d: dict, ini: Init) -> dict:
    C, I, p, g = d["v_hidden"], d["v_inter"], d["patch_size"], d["image_size"] // d["patch_size"]
    pre = "vision_model."
    w = {
        pre + "embeddings.patch_embedding.weight": ini.normal("patch_w", (C, 3, p, p), 1.0 / np.sqrt(3 * p * p)),
        pre + "embeddings.patch_embedding.bias": ini.bias("patch_b", C, 0.02),
        pre + "embeddings.position_embedding.weight": ini.normal("pos", (g * g, C), 0.5),
    }

    def block(prefix: str, key: str) -> None:
        w[prefix + "layer_norm1.weight"] = ini.norm_w(key + "ln1w", C)
        w[prefix + "layer_norm1.bias"] = ini.bias(key + "ln1b", C)
        w[prefix + "layer_norm2.weight"] = ini.norm_w(key + "ln2w", C)
        w[prefix + "layer_norm2.bias"] = ini.bias(key + "ln2b", C)
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            w[prefix + f"self_attn.{n}.weight"] = ini.linear(key + n, C, C)
            w[prefix + f"self_attn.{n}.bias"] = ini.bias(key + n + "b", C, 0.02)
        w[prefix + "mlp.fc1.weight"] = ini.linear(key + "fc1", I, C)
        w[prefix + "mlp.fc1.bias"] = ini.bias(key + "fc1b", I, 0.02)
        w[prefix + "mlp.fc2.weight"] = ini.linear(key + "fc2", C, I)
        w[prefix + "mlp.fc2.bias"] = ini.bias(key + "fc2b", C, 0.02)

    for i in range(d["v_layers"]):
        block(pre + f"encoder.layers.{i}.", f"v{i}.")
    # unused by VILA (features come from hidden_states[select_layer], before post_layernorm)
    w[pre + "post_layernorm.weight"] = ini.norm_w("post_ln_w", C)
    w[pre + "post_layernorm.bias"] = ini.bias("post_ln_b", C)
    w[pre + "head.probe"] = ini.normal("probe", (1, 1, C), 1.0)
    w[pre + "head.attention.in_proj_weight"] = ini.linear("head_in", 3 * C, C)
    w[pre + "head.attention.in_proj_bias"] = ini.bias("head_in_b", 3 * C, 0.02)
    w[pre + "head.attention.out_proj.weight"] = ini.linear("head_out", C, C)
    w[pre + "head.attention.out_proj.bias"] = ini.bias("head_out_b", C, 0.02)
    w[pre + "head.layernorm.weight"] = ini.norm_w("head_ln_w", C)
    w[pre + "head.layernorm.bias"] = ini.bias("head_ln_b", C)
    w[pre + "head.mlp.fc1.weight"] = ini.linear("head_fc1", I, C)
    w[pre + "head.mlp.fc1.bias"] = ini.bias("head_fc1b", I, 0.02)
    w[pre + "head.mlp.fc2.weight"] = ini.linear("head_fc2", C, I)
    w[pre + "head.mlp.fc2.bias"] = ini.bias("head_fc2b", C, 0.02)
    return w


def intern_weights(d: dict, ini: Init) -> dict:
    """InternVisionModel state dict (no prefix), as llava/model/multimodal_encoder/intern/modeling_intern_vit.py."""
    C, I, p, g = d["v_hidden"], d["v_inter"], d["patch_size"], d["image_size"] // d["patch_size"]
    w = {
        "embeddings.class_embedding": ini.normal("cls", (1, 1, C), 1.0),
        "embeddings.patch_embedding.weight": ini.normal("patch_w", (C, 3, p, p), 1.0 / np.sqrt(3 * p * p)),
        "embeddings.patch_embedding.bias": ini.bias("patch_b", C, 0.02),
        "embeddings.position_embedding": ini.normal("pos", (1, g * g + 1, C), 0.5),
    }
    for i in range(d["v_layers"]):
        pre, key = f"encoder.layers.{i}.", f"iv{i}."
        w[pre + "attn.qkv.weight"] = ini.linear(key + "qkv", 3 * C, C)  # qkv_bias false
        w[pre + "attn.q_norm.weight"] = ini.norm_w(key + "qn", C)
        w[pre + "attn.k_norm.weight"] = ini.norm_w(key + "kn", C)
        w[pre + "attn.proj.weight"] = ini.linear(key + "proj", C, C)
        w[pre + "attn.proj.bias"] = ini.bias(key + "projb", C, 0.02)
        w[pre + "mlp.fc1.weight"] = ini.linear(key + "fc1", I, C)
        w[pre + "mlp.fc1.bias"] = ini.bias(key + "fc1b", I, 0.02)
        w[pre + "mlp.fc2.weight"] = ini.linear(key + "fc2", C, I)
        w[pre + "mlp.fc2.bias"] = ini.bias(key + "fc2b", C, 0.02)
        w[pre + "norm1.weight"] = ini.norm_w(key + "n1", C)
        w[pre + "norm2.weight"] = ini.norm_w(key + "n2", C)
        w[pre + "ls1"] = ini.normal(key + "ls1", (C,), 0.2, 0.5)  # layer scale (init 0.1; trained values vary)
        w[pre + "ls2"] = ini.normal(key + "ls2", (C,), 0.2, 0.5)
    return w


def mlp_gelu_depth(projector: str) -> int:
    """N of mlpNx_gelu (upstream re.match(r"^mlp(\d+)x_gelu$")), 0 for any other type."""
    m = re.match(r"^mlp(\d+)x_gelu$", projector)
    return int(m.group(1)) if m else 0


def projector_weights(d: dict, ini: Init) -> dict:
    """mm_projector/model.safetensors: MultimodalProjector.state_dict() keys (everything under self.layers)."""
    C, D, kind = d["mm_hidden"], d["hidden"], d["projector"]
    if kind == "linear":  # self.layers = nn.Linear(C, D)
        return {
            "layers.weight": ini.linear("proj_linear", D, C),
            "layers.bias": ini.bias("proj_linearb", D, 0.02),
        }
    n = mlp_gelu_depth(kind)
    if n:  # nn.Sequential(Linear(C, D), [GELU, Linear(D, D)] x (N-1)): the Linears sit at even indices
        w = {"layers.0.weight": ini.linear("proj_mlp0", D, C), "layers.0.bias": ini.bias("proj_mlp0b", D, 0.02)}
        for i in range(1, n):
            w[f"layers.{2 * i}.weight"] = ini.linear(f"proj_mlp{i}", D, D, gain=1.5)
            w[f"layers.{2 * i}.bias"] = ini.bias(f"proj_mlp{i}b", D, 0.02)
        return w
    assert kind == "mlp_downsample", kind
    C4 = 4 * C
    return {
        "layers.1.weight": ini.norm_w("proj_ln_w", C4),
        "layers.1.bias": ini.bias("proj_ln_b", C4),
        "layers.2.weight": ini.linear("proj_fc1", D, C4),
        "layers.2.bias": ini.bias("proj_fc1b", D, 0.02),
        "layers.4.weight": ini.linear("proj_fc2", D, D, gain=1.5),
        "layers.4.bias": ini.bias("proj_fc2b", D, 0.02),
    }


# ----------------------------------------------------------------------------- configs

def llm_config(d: dict) -> dict:
    return {
        "_name_or_path": "./llm",
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": d["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": d["inter"],
        "max_position_embeddings": d["max_pos"],
        "model_max_length": d["max_pos"],
        "model_type": "llama",
        "num_attention_heads": d["heads"],
        "num_hidden_layers": d["layers"],
        "num_key_value_heads": d["kv_heads"],
        "pad_token_id": 0,
        "pretraining_tp": 1,
        "rms_norm_eps": d["rms_eps"],
        "rope_scaling": None,
        "rope_theta": d["rope_theta"],
        "tie_word_embeddings": False,
        "tokenizer_model_max_length": d["max_pos"],
        "tokenizer_padding_side": "right",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.36.2",
        "use_cache": True,
        "vocab_size": d["vocab"],
    }


def vision_config(d: dict) -> dict:
    if d["tower"] == "intern":  # configuration_intern_vit.py InternVisionConfig keys
        return {
            "_name_or_path": "./vision_tower",
            "architectures": ["InternVisionModel"],
            "attention_dropout": 0.0,
            "drop_path_rate": 0.0,
            "dropout": 0.0,
            "hidden_act": "gelu",
            "hidden_size": d["v_hidden"],
            "image_size": d["image_size"],
            "initializer_factor": 0.1,
            "initializer_range": 1e-10,
            "intermediate_size": d["v_inter"],
            "layer_norm_eps": 1e-06,
            "model_type": "intern_vit_6b",
            "num_attention_heads": d["v_heads"],
            "num_channels": 3,
            "num_hidden_layers": d["v_layers"],
            "patch_size": d["patch_size"],
            "qk_normalization": True,
            "qkv_bias": False,
            "torch_dtype": "bfloat16",
            "transformers_version": "4.36.2",
            "use_flash_attn": True,
        }
    return {
        "_name_or_path": "./vision_tower",
        "architectures": ["SiglipVisionModel"],
        "attention_dropout": 0.0,
        "hidden_act": "gelu_pytorch_tanh",
        "hidden_size": d["v_hidden"],
        "image_size": d["image_size"],
        "intermediate_size": d["v_inter"],
        "layer_norm_eps": 1e-06,
        "model_type": "siglip_vision_model",
        "num_attention_heads": d["v_heads"],
        "num_channels": 3,
        "num_hidden_layers": d["v_layers"],
        "patch_size": d["patch_size"],
        "torch_dtype": "bfloat16",
        "transformers_version": "4.36.2",
    }


def projector_config(d: dict) -> dict:
    return {
        "_name_or_path": "./mm_projector",
        "architectures": ["MultimodalProjector"],
        "mm_projector_type": d["projector"],
        "model_type": "v2l_projector",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.36.2",
    }


def top_config(d: dict) -> dict:
    return {
        "_name_or_path": "./vlm",
        "architectures": ["LlavaLlamaModel"],
        "drop_path_rate": 0.0,
        "hidden_size": d["hidden"],
        "image_aspect_ratio": d["aspect"],
        "interpolate_mode": "linear",
        "llm_cfg": llm_config(d),
        "mm_hidden_size": d["mm_hidden"],
        "mm_projector_cfg": projector_config(d),
        "mm_projector_lr": None,
        "mm_use_im_patch_token": False,
        "mm_use_im_start_end": False,
        "mm_vision_select_feature": d["select_feature"],
        "mm_vision_select_layer": d["select_layer"],
        "model_dtype": "torch.bfloat16",
        "model_type": "llava_llama",
        "num_video_frames": 8,
        "resume_path": "./vlm",
        # as in VILA1.5-3b (leftover defaults, unused) unless an S2 variant
        "s2": bool(d["s2_scales"]),
        "s2_max_split_size": d["image_size"] if d["s2_scales"] else 336,
        "s2_scales": ",".join(map(str, d["s2_scales"])) if d["s2_scales"] else "336,672,1008",
        "transformers_version": "4.36.2",
        "tune_language_model": True,
        "tune_mm_projector": True,
        "tune_vision_tower": True,
        "vision_resolution": -1,
        "vision_tower_cfg": vision_config(d),
    }


def preprocessor_config(d: dict) -> dict:
    return {
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_processor_type": "SiglipImageProcessor",
        "image_std": [0.5, 0.5, 0.5],
        "processor_class": "SiglipProcessor",
        "resample": 3,
        "rescale_factor": 0.00392156862745098,
        "size": {"height": d["image_size"], "width": d["image_size"]},
    }


TRAINER_STATE = {
    "best_metric": None, "best_model_checkpoint": None, "epoch": 1.0, "global_step": 1,
    "is_hyper_param_search": False, "is_local_process_zero": True, "is_world_process_zero": True,
    "log_history": [], "max_steps": 1, "num_train_epochs": 1, "total_flos": 0,
    "trial_name": None, "trial_params": None,
}

SPECIAL_TOKENS_MAP = {
    "bos_token": {"content": "<s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
    "eos_token": {"content": "</s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
    "pad_token": "<unk>",
    "unk_token": {"content": "<unk>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
}


def tokenizer_config(d: dict) -> dict:
    tok = lambda s: {"content": s, "lstrip": False, "normalized": False, "rstrip": False,  # noqa: E731
                     "single_word": False, "special": True}
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": {"0": tok("<unk>"), "1": tok("<s>"), "2": tok("</s>")},
        "bos_token": "<s>",
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "legacy": False,
        "model_max_length": d["max_pos"],
        "pad_token": "<unk>",
        "padding_side": "right",
        "sp_model_kwargs": {},
        "spaces_between_special_tokens": False,
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }


GENERATION_CONFIG = {
    "_from_model_config": True, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
    "transformers_version": "4.36.2",
}


# ----------------------------------------------------------------------------- tokenizer

def train_tokenizer(out_path: str, vocab: int) -> None:
    """SentencePiece BPE like Llama's tokenizer.model (byte_fallback, split_digits, identity
    normalisation, dummy prefix, no whitespace collapsing), trained on the license texts."""
    files = sorted(f for f in os.listdir(LICENSE_DIR) if not os.path.islink(os.path.join(LICENSE_DIR, f)))
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "corpus.txt"), "wb") as f:
            for n in files:
                with open(os.path.join(LICENSE_DIR, n), "rb") as g:
                    f.write(g.read())
        cmd = [
            "spm_train", "--input=corpus.txt", "--model_prefix=tokenizer", "--model_type=bpe",
            f"--vocab_size={vocab}", "--character_coverage=0.99995", "--num_threads=1",
            "--byte_fallback=true", "--split_digits=true", "--allow_whitespace_only_pieces=true",
            "--normalization_rule_name=identity", "--remove_extra_whitespaces=false",
            "--add_dummy_prefix=true", "--shuffle_input_sentence=false",
            "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1", "--minloglevel=2",
        ]
        subprocess.run(cmd, cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.copyfile(os.path.join(tmp, "tokenizer.model"), out_path)


# ----------------------------------------------------------------------------- main

def projector_line(d: dict, g: int, n_feat: int) -> str:
    C, D, kind = d["mm_hidden"], d["hidden"], d["projector"]
    if kind == "mlp_downsample":
        gp = g + (g % 2)
        return (f"`mlp_downsample`: {g}x{g}{' + zero row/column' if g % 2 else ''} -> {gp // 2}x{gp // 2} = "
                f"{(gp // 2) ** 2} tokens x {4 * C} (column-major) -> LayerNorm(eps 1e-5) -> Linear {4 * C}->{D} "
                f"-> GELU(erf) -> Linear {D}->{D}")
    if kind == "linear":
        return f"`linear`: {n_feat} tokens x {C} -> Linear {C}->{D} (`layers.weight`, `layers.bias`)"
    n = mlp_gelu_depth(kind)
    tail = "".join(f" -> GELU(erf) -> Linear {D}->{D} (`layers.{2 * i}`)" for i in range(1, n))
    return f"`{kind}`: {n_feat} tokens x {C} -> Linear {C}->{D} (`layers.0`){tail}"


def readme(d: dict) -> str:
    g = d["grid"]
    C = d["v_hidden"]
    flag = f" --projector {d['projector']}" if d["projector"] != "mlp_downsample" and d["variant"] != "mixed" else ""
    if d["tower"] == "intern":
        n_feat = g * g
        tower = (f"| InternViT | image {d['image_size']} (`{d['aspect']}`, ImageNet mean/std, hard-coded upstream), patch "
                 f"{d['patch_size']} -> CLS + {g}x{g} grid ({g * g + 1} positions), hidden {C}, intermediate "
                 f"{d['v_inter']}, {d['v_layers']} layers, {d['v_heads']} heads, RMSNorm eps 1e-6, qk_normalization, "
                 f"no qkv bias, layer scale ls1/ls2, `gelu` (erf); features = hidden_states[{d['select_layer']}], "
                 f"`{d['select_feature']}` (drops CLS) -> {n_feat} tokens |")
    else:
        n_feat = g * g
        tower = (f"| SigLIP | image {d['image_size']} (`{d['aspect']}`), patch {d['patch_size']} -> {g}x{g} grid "
                 f"({d['image_size'] % d['patch_size']} px ignored at right/bottom), hidden {C}, intermediate "
                 f"{d['v_inter']}, {d['v_layers']} layers, {d['v_heads']} heads, eps 1e-6, `gelu_pytorch_tanh`; "
                 f"features = hidden_states[{d['select_layer']}], `{d['select_feature']}` -> {n_feat} tokens |")
    if d["s2_scales"]:
        sc = sorted(d["s2_scales"])
        tower += (f"\n| S2 | s2_scales \"{','.join(map(str, d['s2_scales']))}\", s2_max_split_size {d['image_size']}: image "
                  f"preprocessed at {sc[-1]}; per scale bicubic resize, "
                  + ", ".join(f"{(s // d['image_size']) ** 2} crop(s) -> {g * s // d['image_size']}x{g * s // d['image_size']}"
                              for s in sc)
                  + f"; area-resized to {g}x{g}; channels concatenated (smallest scale first) -> {g * g} tokens x "
                  f"{d['mm_hidden']} |")
    return f"""# Tiny random-weight VILA 1.5 checkpoint (variant `{d['variant']}`, seed {d['seed']})

Generated by `tools/make_tiny_vila.py --seed {d['seed']} --variant {d['variant']}{flag}`; the weights are random
bf16, so generated text is meaningless. Layout and config files mirror a published VILA1.5 repo.

| Part | Configuration |
|---|---|
{tower}
| Projector | {projector_line(d, g, n_feat)} |
| Llama | hidden {d['hidden']}, {d['layers']} layers, {d['heads']} heads, {d['kv_heads']} KV heads, head_dim {d['hidden'] // d['heads']}, intermediate {d['inter']}, vocab {d['vocab']}, rope_theta {d['rope_theta']}, rms_norm_eps {d['rms_eps']}, untied lm_head, max positions {d['max_pos']} |

`expected.json` (when present) holds goldens from `tools/make_goldens.py` (independent PyTorch implementation
`tools/vila_torch.py`); `cases.json` holds the prompts and image paths (relative to this folder).
"""


def generate(out: str, seed: int, variant: str, projector: str = None) -> dict:
    d = draw_dims(seed, variant, projector)
    ini = Init(seed)
    for sub in ("llm", "vision_tower", "mm_projector"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)

    write_json(os.path.join(out, "config.json"), top_config(d))
    write_json(os.path.join(out, "trainer_state.json"), TRAINER_STATE)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(readme(d))

    llm = os.path.join(out, "llm")
    write_json(os.path.join(llm, "config.json"), llm_config(d))
    write_json(os.path.join(llm, "generation_config.json"), GENERATION_CONFIG)
    write_json(os.path.join(llm, "tokenizer_config.json"), tokenizer_config(d))
    write_json(os.path.join(llm, "special_tokens_map.json"), SPECIAL_TOKENS_MAP)
    train_tokenizer(os.path.join(llm, "tokenizer.model"), d["vocab"])

    # two shards split at tensor granularity in state_dict order (may cut through a layer, as HF does)
    items = llm_weights(d, ini)
    sizes = [t.numel() * 2 for _, t in items]
    total = sum(sizes)
    acc, cut = 0, len(items)
    for i, s in enumerate(sizes):
        if acc >= total / 2:
            cut = i
            break
        acc += s
    shards = [dict(items[:cut]), dict(items[cut:])]
    weight_map = {}
    for k, sh in enumerate(shards):
        fn = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        write_safetensors(os.path.join(llm, fn), sh)
        weight_map.update({n: fn for n in sh})
    write_json(os.path.join(llm, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": weight_map})

    vt = os.path.join(out, "vision_tower")
    write_json(os.path.join(vt, "config.json"), vision_config(d))
    if d["tower"] == "intern":
        write_safetensors(os.path.join(vt, "model.safetensors"), intern_weights(d, ini))
    else:
        write_json(os.path.join(vt, "preprocessor_config.json"), preprocessor_config(d))
        write_safetensors(os.path.join(vt, "model.safetensors"), vision_weights(d, ini))

    mp = os.path.join(out, "mm_projector")
    write_json(os.path.join(mp, "config.json"), projector_config(d))
    write_safetensors(os.path.join(mp, "model.safetensors"), projector_weights(d, ini))
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--variant", default="default", choices=VARIANTS)
    ap.add_argument("--projector", default=None, choices=PROJECTORS,
                    help="mm_projector_type (default: mlp_downsample; drawn from the seed for --variant mixed)")
    args = ap.parse_args()
    d = generate(args.out, args.seed, args.variant, args.projector)
    print(json.dumps(d))


if __name__ == "__main__":
    main()
