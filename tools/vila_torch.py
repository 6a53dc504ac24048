#!/usr/bin/python3
"""Independent PyTorch reference for VILA 1.5 (SigLIP or InternViT + projector + Llama), float32 activations.

Projector (mm_projector/config.json mm_projector_type): mlp_downsample (every released VILA1.5), linear,
mlpNx_gelu or identity.

Written from the upstream sources, not from the TypeScript runtime:
  - NVlabs/VILA vila1.5 (6b941da): llava/mm_utils.py (process_image, expand2square, tokenizer_image_token),
    llava/model/multimodal_encoder/vision_encoder.py (feature_select), siglip/modeling_siglip.py,
    intern_encoder.py + intern/modeling_intern_vit.py (VILA1.5-40b's tower),
    llava/model/multimodal_projector/base_projector.py (DownSampleBlock.flat_square, MultimodalProjector),
    llava/train/transformers_replace/models/llama/{modeling,tokenization}_llama.py (HF 4.36),
    llava/conversation.py (vicuna_v1), llava/eval/run_vila.py ("<image>\\n" x N when the query has none).
Weights are the stored bf16 (or f16/f32) values upcast to float32; every op runs in float32 with torch's
own kernels (F.conv2d, F.layer_norm, F.gelu, torch.softmax, F.silu). The checkpoint is read with the small
safetensors reader below (no safetensors / transformers packages).

Use with Debian's interpreter: /usr/bin/python3 (torch 1.13, sentencepiece 0.1.97, PIL 9.4).
"""
import json
import math
import os
import re
import struct

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F
from PIL import Image

IMAGE_TOKEN_INDEX = -200
DEFAULT_IMAGE_TOKEN = "<image>"
VICUNA_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
                 "The assistant gives helpful, detailed, and polite answers to the user's questions.")
SPIECE_UNDERLINE = "\u2581"


# ----------------------------------------------------------------------------- safetensors reader

def read_safetensors(path: str) -> dict:
    """name -> float32 torch tensor. Checks offsets are in range and contiguous."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    expect = 0
    entries = sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                     key=lambda kv: kv[1]["data_offsets"][0])
    for name, info in entries:
        s, e = info["data_offsets"]
        assert s == expect, f"{path}: {name} not contiguous"
        expect = e
        raw = buf[base + s: base + e]
        dt = info["dtype"]
        if dt == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        else:
            raise ValueError(f"{path}: {name}: dtype {dt} not supported")
        assert arr.size == int(np.prod(info["shape"], dtype=np.int64)), name
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    assert base + expect == len(buf), f"{path}: trailing bytes"
    return out


def load_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


# ----------------------------------------------------------------------------- tokenizer

def _pb_varint(b: bytes, i: int):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _pb_fields(b: bytes):
    i, out = 0, []
    while i < len(b):
        start = i
        key, i = _pb_varint(b, i)
        f, w = key >> 3, key & 7
        if w == 0:
            _, i = _pb_varint(b, i)
        elif w == 1:
            i += 8
        elif w == 2:
            n, i = _pb_varint(b, i)
            i += n
        elif w == 5:
            i += 4
        else:
            raise ValueError("protobuf wire type")
        out.append((f, w, b[start:i]))
    return out


def _pb_len(n: int) -> bytes:
    out = bytearray()
    while True:
        c = n & 0x7F
        n >>= 7
        out.append(c | (0x80 if n else 0))
        if not n:
            return bytes(out)


def spm_without_dummy_prefix(model_bytes: bytes) -> bytes:
    """ModelProto with normalizer_spec.add_dummy_prefix = false: what HF 4.36 LlamaTokenizer(legacy=False)
    get_spm_processor() loads (it uses protobuf; this edits the wire format directly)."""
    out = bytearray()
    for f, w, raw in _pb_fields(model_bytes):
        if f == 3 and w == 2:  # normalizer_spec
            _, j = _pb_varint(raw, 0)  # key
            n, j = _pb_varint(raw, j)
            body = raw[j:j + n]
            nb = bytearray(x for ff, ww, r in _pb_fields(body) if not (ff == 3 and ww == 0) for x in r)
            nb += bytes([3 << 3 | 0, 0])  # field 3 (add_dummy_prefix) = false
            out += bytes([3 << 3 | 2]) + _pb_len(len(nb)) + nb
        else:
            out += raw
    return bytes(out)


class LlamaSlowTokenizer:
    """transformers 4.36 LlamaTokenizer(legacy=False, add_bos_token=True) semantics for prompts without
    special-token strings, two ways: (a) SentencePiece with its dummy prefix; (b) HF's literal procedure
    (prefix U+2581, encode "<unk>"+text with add_dummy_prefix off, drop the "<unk>" pieces). Both must agree."""

    def __init__(self, model_path: str, bos_id: int = 1):
        with open(model_path, "rb") as f:
            data = f.read()
        self.sp = spm.SentencePieceProcessor(model_proto=data)
        self.sp_nodummy = spm.SentencePieceProcessor(model_proto=spm_without_dummy_prefix(data))
        self.bos_id = bos_id
        self.unk_len = len(self.sp_nodummy.encode("<unk>"))

    def _tokenize_hf(self, text: str):
        if len(text) == 0:
            return []
        text = SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " ")
        ids = self.sp_nodummy.encode("<unk>" + text)
        return ids[self.unk_len:]

    def encode(self, text: str):
        """tokenizer(text).input_ids: [BOS] + tokenize(text)."""
        a = self.sp.encode(text) if text else []
        b = self._tokenize_hf(text)
        assert a == b, f"dummy-prefix and HF-literal tokenisations differ for {text!r}: {a} vs {b}"
        return [self.bos_id] + a

    def id_to_piece(self, i: int) -> str:
        return self.sp.id_to_piece(i)

    def decode(self, ids) -> str:
        return self.sp.decode(list(ids))


def tokenizer_image_token(prompt: str, tok: LlamaSlowTokenizer):
    """llava/mm_utils.py tokenizer_image_token, verbatim logic."""
    chunks = [tok.encode(c) for c in prompt.split(DEFAULT_IMAGE_TOKEN)]
    input_ids, offset = [], 0
    if len(chunks) > 0 and len(chunks[0]) > 0 and chunks[0][0] == tok.bos_id:
        offset = 1
        input_ids.append(chunks[0][0])
    sep = [IMAGE_TOKEN_INDEX] * (offset + 1)
    seq = [e for sub in zip(chunks, [sep] * len(chunks)) for e in sub][:-1]
    for x in seq:
        input_ids.extend(x[offset:])
    return input_ids


def build_prompt(prompt: str, raw: bool, n_images: int) -> str:
    """raw: the prompt verbatim. Otherwise run_vila.py + vicuna_v1 (SeparatorStyle.TWO, sep " ")."""
    if raw:
        return prompt
    qs = prompt
    if DEFAULT_IMAGE_TOKEN not in qs and n_images > 0:
        qs = (DEFAULT_IMAGE_TOKEN + "\n") * n_images + qs
    return VICUNA_SYSTEM + " " + "USER: " + qs + " " + "ASSISTANT:"


# ----------------------------------------------------------------------------- model

class VilaTorch:
    def __init__(self, root: str):
        self.root = root
        cfg = load_json(os.path.join(root, "config.json"))
        assert any("llava" in a.lower() for a in cfg["architectures"]), "not a multimodal VILA config"
        self.cfg = cfg
        self.select_layer = cfg.get("mm_vision_select_layer", -2)
        self.select_feature = cfg.get("mm_vision_select_feature", "patch")
        self.aspect = cfg.get("image_aspect_ratio", "resize")
        # sub-configs come from the folders (the embedded dicts are ignored)
        self.lcfg = load_json(os.path.join(root, "llm", "config.json"))
        self.vcfg = load_json(os.path.join(root, "vision_tower", "config.json"))
        self.mcfg = load_json(os.path.join(root, "mm_projector", "config.json"))
        arch = self.vcfg["architectures"][0].lower()  # multimodal_encoder/builder.py
        if "intern" in arch:
            self.tower = "intern"
            # intern_encoder.py InternVisionPreprocessor: size 448 and ImageNet mean/std are hard-coded
            self.pcfg = {"size": {"height": 448, "width": 448}, "image_mean": [0.485, 0.456, 0.406],
                         "image_std": [0.229, 0.224, 0.225]}
            assert self.vcfg["image_size"] == 448, "upstream always feeds 448x448 to InternViT"
            assert self.aspect == "resize", "pad needs processor.image_mean, which InternVisionPreprocessor lacks"
        elif "siglip" in arch:
            self.tower = "siglip"
            self.pcfg = load_json(os.path.join(root, "vision_tower", "preprocessor_config.json"))
            self.s2_scales = None
            if cfg.get("s2", False):
                # vision_encoder.py VisionTowerS2.__init__ (vila1.5): scales parsed from "a,b,..." and sorted
                self.s2_scales = sorted(int(x) for x in cfg["s2_scales"].split(","))
                self.s2_split = cfg["s2_max_split_size"]
                # siglip_encoder.py SiglipVisionTowerS2: processor size overridden to the largest scale
                self.pcfg = dict(self.pcfg, size={"height": self.s2_scales[-1], "width": self.s2_scales[-1]})
        else:
            raise ValueError(f"vision tower {arch}")
        self.vw = read_safetensors(os.path.join(root, "vision_tower", "model.safetensors"))
        self.projector = self.mcfg["mm_projector_type"]
        pw_path = os.path.join(root, "mm_projector", "model.safetensors")
        self.pw = read_safetensors(pw_path) if os.path.exists(pw_path) else {}
        want = self.projector_keys()
        assert set(self.pw) == want, f"mm_projector keys {sorted(self.pw)} != {self.projector} keys {sorted(want)}"
        self.lw = None
        idx = os.path.join(root, "llm", "model.safetensors.index.json")
        if os.path.exists(idx):
            index = load_json(idx)
            self.lw = {}
            for fn in sorted(set(index["weight_map"].values())):
                part = read_safetensors(os.path.join(root, "llm", fn))
                for k in part:
                    assert index["weight_map"].get(k) == fn, f"{k} not mapped to {fn}"
                self.lw.update(part)
            assert set(self.lw) == set(index["weight_map"]), "index and shards disagree"
        elif os.path.exists(os.path.join(root, "llm", "model.safetensors")):  # unsharded, as HF writes small models
            self.lw = read_safetensors(os.path.join(root, "llm", "model.safetensors"))
        self.dtype = torch.float32
        tm = os.path.join(root, "llm", "tokenizer.model")
        self.tok = LlamaSlowTokenizer(tm, self.lcfg.get("bos_token_id", 1)) if os.path.exists(tm) else None

    def to(self, dtype: torch.dtype) -> "VilaTorch":
        """Evaluate in another precision (float64: to measure how far float32 is from exact)."""
        self.dtype = dtype
        for ws in (self.vw, self.pw, self.lw or {}):
            for k in ws:
                ws[k] = ws[k].to(dtype)
        return self

    # --------------------------------------------------------------- preprocessing (mm_utils.process_image)
    def preprocess(self, path: str) -> torch.Tensor:
        """-> (3, S, S) float32."""
        image = Image.open(path).convert("RGB")
        if self.tower == "intern":
            # process_image "resize": image.resize((448, 448)); then torchvision Resize((448, 448), BICUBIC) on the
            # PIL image (same size: no-op), ToTensor (float32 u8 / 255), Normalize(ImageNet) in float32
            image = image.resize((448, 448))
            t = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()
            t = t.to(torch.float32).div(255)
            mean = torch.as_tensor(self.pcfg["image_mean"], dtype=torch.float32)[:, None, None]
            std = torch.as_tensor(self.pcfg["image_std"], dtype=torch.float32)[:, None, None]
            return t.sub(mean).div(std).to(self.dtype)
        S = self.pcfg["size"]["height"]
        assert self.pcfg["size"]["width"] == S
        mean = np.array(self.pcfg["image_mean"], dtype=np.float32)
        std = np.array(self.pcfg["image_std"], dtype=np.float32)
        if self.aspect == "resize":
            image = image.resize((S, S))  # PIL default filter (BICUBIC), antialiased
        elif self.aspect == "pad":
            bg = tuple(int(x * 255) for x in self.pcfg["image_mean"])
            w, h = image.size
            if w != h:
                side = max(w, h)
                canvas = Image.new(image.mode, (side, side), bg)
                canvas.paste(image, (0, (side - h) // 2) if w > h else ((side - w) // 2, 0))
                image = canvas
        else:
            raise ValueError(self.aspect)
        # SiglipImageProcessor.preprocess: resize (BICUBIC = resample 3) unless already S x S, rescale, normalize
        if image.size != (S, S):
            image = image.resize((S, S), resample=self.pcfg.get("resample", 3))
        u8 = np.asarray(image, dtype=np.uint8)
        x = (u8.astype(np.float64) * self.pcfg["rescale_factor"]).astype(np.float32)  # HF rescale: f64 then cast
        x = (x - mean) / std
        return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))).to(self.dtype)

    # --------------------------------------------------------------- SigLIP
    def siglip_attention(self, h: torch.Tensor, p: str) -> torch.Tensor:
        """SiglipAttention: (L, C) -> (L, C); scores * head_dim^-0.5, softmax over keys, no mask."""
        w = self.vw
        C, nh = self.vcfg["hidden_size"], self.vcfg["num_attention_heads"]
        hd, L = C // nh, h.shape[0]
        q = F.linear(h, w[p + "self_attn.q_proj.weight"], w[p + "self_attn.q_proj.bias"])
        k = F.linear(h, w[p + "self_attn.k_proj.weight"], w[p + "self_attn.k_proj.bias"])
        v = F.linear(h, w[p + "self_attn.v_proj.weight"], w[p + "self_attn.v_proj.bias"])
        q, k, v = (t.view(L, nh, hd).transpose(0, 1) for t in (q, k, v))
        att = torch.matmul(q, k.transpose(1, 2)) * (hd ** -0.5)
        att = torch.softmax(att, dim=-1, dtype=self.dtype)  # upstream: softmax upcast to fp32
        o = torch.matmul(att, v).transpose(0, 1).reshape(L, C)
        return F.linear(o, w[p + "self_attn.out_proj.weight"], w[p + "self_attn.out_proj.bias"])

    def vision(self, px: torch.Tensor, dbg: dict = None) -> torch.Tensor:
        """(3,S,S) -> features (L, C) = hidden_states[select_layer] after feature_select."""
        if self.tower == "siglip" and self.s2_scales is not None:
            return self.s2_vision(px, dbg)
        hidden_states = self.intern_hidden_states(px) if self.tower == "intern" else self.siglip_hidden_states(px)
        if dbg is not None:
            dbg["embeddings_out"] = hidden_states[0]
        feats = hidden_states[self.select_layer]
        if self.select_feature == "patch":  # vision_encoder.py feature_select: drop token 0
            feats = feats[1:]
        elif self.select_feature != "cls_patch":
            raise ValueError(self.select_feature)
        return feats

    def s2_vision(self, px: torch.Tensor, dbg: dict = None) -> torch.Tensor:
        """VisionTowerS2.forward -> s2wrapper forward(model, x, img_sizes=scales, max_split_size, resize_output_to_idx=0,
        num_prefix_token=0, output_shape='bnc') (bfshi/scaling_on_scales s2wrapper/core.py and utils.py
        split_chessboard / merge_chessboard), for one image (3, S, S) with S the largest scale -> (L, C x scales)."""
        x = px[None]  # upstream interpolates in float32 (input.to(torch.float32)); px is float32 unless .to(float64)
        outs = []
        for size in self.s2_scales:
            n = math.ceil(size / self.s2_split)
            assert n * self.s2_split == size, "scales must be multiples of s2_max_split_size (split_chessboard asserts)"
            xs = F.interpolate(x, size=size, mode="bicubic")  # align_corners None = False, no antialias
            h = size // n
            # split_chessboard: crop (i, j) at batch index i * n + j
            crops = torch.cat([xs[:, :, i * h:(i + 1) * h, j * h:(j + 1) * h] for i in range(n) for j in range(n)], dim=0)
            feats = []
            for k in range(crops.shape[0]):  # forward_feature: hidden_states[select] + feature_select per crop
                hs = self.siglip_hidden_states(crops[k])
                if dbg is not None and not outs and k == 0:
                    dbg["embeddings_out"] = hs[0]
                f = hs[self.select_layer]
                feats.append(f[1:] if self.select_feature == "patch" else f)
            feats = torch.stack(feats)  # (n*n, L, C)
            g = int(feats.shape[1] ** 0.5)
            assert g * g == feats.shape[1], "S2 needs a square token grid per crop"
            # rearrange 'b (h w) c -> b c h w' (a permuted view, as einops gives), then merge_chessboard
            maps = feats.reshape(feats.shape[0], g, g, -1).permute(0, 3, 1, 2)
            merged = torch.cat([torch.cat([maps[i * n + j:i * n + j + 1] for j in range(n)], dim=-1) for i in range(n)],
                               dim=-2)
            outs.append(merged)
        side = outs[0].shape[-2]  # resize_output_to_idx = 0: the smallest scale's map
        out = torch.cat([F.interpolate(o, size=side, mode="area") for o in outs], dim=1)
        out = out.permute(0, 2, 3, 1).reshape(side * side, -1)  # 'b c h w -> b (h w) c'
        if dbg is not None:
            dbg["s2_scale_maps"] = outs
        return out

    def siglip_hidden_states(self, px: torch.Tensor) -> list:
        w, c = self.vw, self.vcfg
        pre = "vision_model."
        C, eps = c["hidden_size"], c["layer_norm_eps"]
        patch = c["patch_size"]
        assert c["hidden_act"] == "gelu_pytorch_tanh"
        x = F.conv2d(px[None], w[pre + "embeddings.patch_embedding.weight"],
                     w[pre + "embeddings.patch_embedding.bias"], stride=patch)  # valid: drops S % patch
        x = x.flatten(2).transpose(1, 2)[0]  # (g*g, C), row-major over the grid
        x = x + w[pre + "embeddings.position_embedding.weight"]
        hidden_states = [x]
        for i in range(c["num_hidden_layers"]):
            p = pre + f"encoder.layers.{i}."
            h = F.layer_norm(x, (C,), w[p + "layer_norm1.weight"], w[p + "layer_norm1.bias"], eps)
            x = x + self.siglip_attention(h, p)
            h = F.layer_norm(x, (C,), w[p + "layer_norm2.weight"], w[p + "layer_norm2.bias"], eps)
            h = F.linear(h, w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"])
            h = F.gelu(h, approximate="tanh")
            h = F.linear(h, w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"])
            x = x + h
            hidden_states.append(x)
        return hidden_states

    # --------------------------------------------------------------- InternViT (intern/modeling_intern_vit.py)
    def intern_rms(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """InternRMSNorm: fp32 statistics, weight * x."""
        xf = x.to(self.dtype)
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.vcfg["layer_norm_eps"])
        return weight * xf.to(x.dtype)

    def intern_attention(self, h: torch.Tensor, p: str) -> torch.Tensor:
        """InternAttention._naive_attn: one qkv Linear split (3, heads, head_dim); q_norm / k_norm over all
        heads (C) before the head split; (q * scale) @ k^T; softmax; proj."""
        w, c = self.vw, self.vcfg
        C, nh = c["hidden_size"], c["num_attention_heads"]
        hd, L = C // nh, h.shape[0]
        qkv = F.linear(h, w[p + "attn.qkv.weight"], w.get(p + "attn.qkv.bias"))
        q, k, v = qkv.reshape(L, 3, nh, hd).permute(1, 2, 0, 3).unbind(0)  # each (nh, L, hd)
        if c.get("qk_normalization", False):
            q = self.intern_rms(q.transpose(0, 1).flatten(-2, -1), w[p + "attn.q_norm.weight"]).view(L, nh, hd).transpose(0, 1)
            k = self.intern_rms(k.transpose(0, 1).flatten(-2, -1), w[p + "attn.k_norm.weight"]).view(L, nh, hd).transpose(0, 1)
        att = torch.matmul(q * (hd ** -0.5), k.transpose(1, 2))
        att = torch.softmax(att, dim=-1, dtype=self.dtype)
        o = torch.matmul(att, v).transpose(0, 1).reshape(L, C)
        return F.linear(o, w[p + "attn.proj.weight"], w[p + "attn.proj.bias"])

    def intern_hidden_states(self, px: torch.Tensor) -> list:
        w, c = self.vw, self.vcfg
        C, patch = c["hidden_size"], c["patch_size"]
        assert c["hidden_act"] == "gelu"
        x = F.conv2d(px[None], w["embeddings.patch_embedding.weight"], w["embeddings.patch_embedding.bias"],
                     stride=patch)
        x = x.flatten(2).transpose(1, 2)[0]
        x = torch.cat([w["embeddings.class_embedding"].reshape(1, C), x], dim=0)  # CLS first
        x = x + w["embeddings.position_embedding"].reshape(-1, C)
        hidden_states = [x]
        for i in range(c["num_hidden_layers"]):
            p = f"encoder.layers.{i}."
            x = x + self.intern_attention(self.intern_rms(x, w[p + "norm1.weight"]), p) * w[p + "ls1"]
            h = self.intern_rms(x, w[p + "norm2.weight"])
            h = F.linear(F.gelu(F.linear(h, w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"])),
                         w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"])
            x = x + h * w[p + "ls2"]
            hidden_states.append(x)
        return hidden_states  # no final norm

    # --------------------------------------------------------------- projector (base_projector.py)
    @staticmethod
    def flat_square(x: torch.Tensor) -> torch.Tensor:
        """DownSampleBlock.flat_square, verbatim: x (n, w, h, c) -> (n, h/2, w/2, 4c)."""
        n, w, h, c = x.size()
        if w % 2 == 1:
            x = torch.concat([x, torch.zeros((n, 1, h, c), dtype=x.dtype)], dim=1).contiguous()
            n, w, h, c = x.size()
        if h % 2 == 1:
            x = torch.concat([x, torch.zeros((n, w, 1, c), dtype=x.dtype)], dim=2).contiguous()
            n, w, h, c = x.size()
        x = x.view(n, w, int(h / 2), int(c * 2))
        x = x.permute(0, 2, 1, 3).contiguous()
        x = x.view(n, int(h / 2), int(w / 2), int(c * 4))
        return x

    @classmethod
    def downsample(cls, feats: torch.Tensor) -> torch.Tensor:
        """DownSampleBlock.forward on one image: (L, C) -> (T, 4C)."""
        x = feats.contiguous()[None]  # memory layout only (upstream hidden states are contiguous per image)
        h = w = int(x.shape[1] ** 0.5)
        x = x.reshape(x.shape[0], h, w, -1)
        x = cls.flat_square(x)
        return x.reshape(x.shape[0], -1, x.shape[-1])[0]

    def projector_keys(self) -> set:
        """MultimodalProjector(...).state_dict() keys for self.projector (base_projector.py, vila1.5 6b941da):
        identity: IdentityMap, no parameters; linear: self.layers = nn.Linear(C, D) -> layers.weight/bias;
        mlp_downsample: Sequential(DownSampleBlock, LayerNorm, Linear, GELU, Linear) -> layers.1, .2, .4;
        mlpNx_gelu: Sequential(Linear, (GELU, Linear) x (N-1)) -> layers.0, .2, ..., .2(N-1)."""
        t = self.projector
        if t == "identity":
            return set()
        if t == "linear":
            idx = [None]
        elif t == "mlp_downsample":  # tested before the mlpNx_gelu pattern upstream (it does not match it anyway)
            idx = [1, 2, 4]
        else:
            m = re.match(r"^mlp(\d+)x_gelu$", t)
            if not m:
                raise ValueError(f"Unknown projector type: {t}")
            idx = [2 * i for i in range(int(m.group(1)))]
        return {f"layers.{i}.{p}" if i is not None else f"layers.{p}" for i in idx for p in ("weight", "bias")}

    def project(self, feats: torch.Tensor) -> torch.Tensor:
        """MultimodalProjector.forward on one image's features (L, C) -> (image tokens, D)."""
        w, t = self.pw, self.projector
        if t == "identity":
            assert feats.shape[-1] == self.lcfg["hidden_size"], "identity projector needs mm_hidden_size == hidden_size"
            return feats
        if t == "linear":
            return F.linear(feats, w["layers.weight"], w["layers.bias"])
        m = re.match(r"^mlp(\d+)x_gelu$", t)
        if m:
            x = F.linear(feats, w["layers.0.weight"], w["layers.0.bias"])
            for i in range(1, int(m.group(1))):
                x = F.gelu(x)  # nn.GELU(): erf
                x = F.linear(x, w[f"layers.{2 * i}.weight"], w[f"layers.{2 * i}.bias"])
            return x
        assert t == "mlp_downsample", t
        x = self.downsample(feats)
        x = F.layer_norm(x, (x.shape[-1],), w["layers.1.weight"], w["layers.1.bias"], 1e-5)
        x = F.linear(x, w["layers.2.weight"], w["layers.2.bias"])
        x = F.gelu(x)  # nn.GELU(): erf
        x = F.linear(x, w["layers.4.weight"], w["layers.4.bias"])
        return x

    def encode_image(self, path: str, dbg: dict = None) -> torch.Tensor:
        px = self.preprocess(path)
        feats = self.vision(px, dbg)
        out = self.project(feats)
        if dbg is not None:
            dbg.update(pixel_values=px, vision_features=feats, projector_out=out)
        return out

    # --------------------------------------------------------------- Llama (HF 4.36)
    def rms_norm(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        xf = x.to(self.dtype)  # upstream: fp32
        var = xf.pow(2).mean(-1, keepdim=True)
        xf = xf * torch.rsqrt(var + self.lcfg["rms_norm_eps"])
        return weight * xf.to(x.dtype)

    def rope_cos_sin(self, positions: torch.Tensor):
        """LlamaRotaryEmbedding: fp32 cache for t = 0..max_pos-1 (grown if needed), indexed by position."""
        c = self.lcfg
        dim = c["hidden_size"] // c["num_attention_heads"]
        base = c.get("rope_theta", 10000.0)
        assert c.get("rope_scaling") is None
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).to(self.dtype) / dim))
        n = max(c["max_position_embeddings"], int(positions.max()) + 1)
        t = torch.arange(n, dtype=inv_freq.dtype)
        freqs = torch.einsum("i,j->ij", t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos()[positions], emb.sin()[positions]

    @staticmethod
    def rotate_half(x: torch.Tensor) -> torch.Tensor:
        x1 = x[..., : x.shape[-1] // 2]
        x2 = x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def embed(self, ids) -> torch.Tensor:
        return self.lw["model.embed_tokens.weight"][torch.tensor(ids, dtype=torch.long)]

    def llm_forward(self, x: torch.Tensor, start: int, cache: list, dbg: dict = None) -> torch.Tensor:
        """x (T, D) input embeddings at positions start..start+T-1; cache: per-layer [k, v] (kv_heads, S, hd),
        extended in place. Returns final-norm hidden states (T, D)."""
        c, w = self.lcfg, self.lw
        D, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        hd, rep = D // nh, nh // nkv
        T = x.shape[0]
        pos = torch.arange(start, start + T)
        cos, sin = self.rope_cos_sin(pos)
        cos, sin = cos[None], sin[None]  # broadcast over heads
        layer_outs = []
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            h = self.rms_norm(x, w[p + "input_layernorm.weight"])
            q = F.linear(h, w[p + "self_attn.q_proj.weight"]).view(T, nh, hd).transpose(0, 1)
            k = F.linear(h, w[p + "self_attn.k_proj.weight"]).view(T, nkv, hd).transpose(0, 1)
            v = F.linear(h, w[p + "self_attn.v_proj.weight"]).view(T, nkv, hd).transpose(0, 1)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            if len(cache) <= i:
                cache.append([k, v])
            else:
                cache[i][0] = torch.cat([cache[i][0], k], dim=1)
                cache[i][1] = torch.cat([cache[i][1], v], dim=1)
            K, V = cache[i]
            S = K.shape[1]
            # repeat_kv: (kv, S, hd) -> (kv*rep, S, hd); query head h reads KV head h // rep
            K = K[:, None].expand(nkv, rep, S, hd).reshape(nh, S, hd)
            V = V[:, None].expand(nkv, rep, S, hd).reshape(nh, S, hd)
            att = torch.matmul(q, K.transpose(1, 2)) / math.sqrt(hd)
            qpos = pos[:, None]
            kpos = torch.arange(S)[None, :]
            att = att.masked_fill((kpos > qpos)[None], float("-inf"))
            att = torch.softmax(att, dim=-1, dtype=self.dtype)
            o = torch.matmul(att, V).transpose(0, 1).reshape(T, D)
            x = x + F.linear(o, w[p + "self_attn.o_proj.weight"])
            h = self.rms_norm(x, w[p + "post_attention_layernorm.weight"])
            m = F.silu(F.linear(h, w[p + "mlp.gate_proj.weight"])) * F.linear(h, w[p + "mlp.up_proj.weight"])
            x = x + F.linear(m, w[p + "mlp.down_proj.weight"])
            layer_outs.append(x)
        out = self.rms_norm(x, w["model.norm.weight"])
        if dbg is not None:
            dbg["layer_outs"] = layer_outs
            dbg["final_norm"] = out
        return out

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(h, self.lw["lm_head.weight"])

    # --------------------------------------------------------------- assembly
    def splice(self, input_ids, image_embeds) -> torch.Tensor:
        """Each -200 (in order) replaced by that image's projector rows; positions are 0..L-1 afterwards."""
        n_img = sum(1 for t in input_ids if t == IMAGE_TOKEN_INDEX)
        assert n_img == len(image_embeds), f"{n_img} <image> tokens for {len(image_embeds)} images"
        parts, text, k = [], [], 0
        for t in input_ids:
            if t == IMAGE_TOKEN_INDEX:
                if text:
                    parts.append(self.embed(text))
                    text = []
                parts.append(image_embeds[k])
                k += 1
            else:
                text.append(t)
        if text:
            parts.append(self.embed(text))
        return torch.cat(parts, dim=0)

    def run_case(self, prompt: str, raw: bool, images: list, n_new: int = 8, check_recompute: bool = True):
        full_prompt = build_prompt(prompt, raw, len(images))
        ids = tokenizer_image_token(full_prompt, self.tok)
        img_dbg = []
        embeds = []
        for path in images:
            d = {}
            embeds.append(self.encode_image(path, d))
            img_dbg.append(d)
        x = self.splice(ids, embeds)
        L = x.shape[0]
        cache = []
        llm_dbg = {}
        h = self.llm_forward(x, 0, cache, llm_dbg)
        logits0 = self.logits(h[-1])
        step_logits = [logits0]
        greedy = []
        cur = logits0
        for step in range(n_new):
            nxt = int(torch.argmax(cur))
            greedy.append(nxt)
            if step == n_new - 1:
                break
            h = self.llm_forward(self.embed([nxt]), L + step, cache)
            cur = self.logits(h[-1])
            step_logits.append(cur)
        result = dict(full_prompt=full_prompt, input_ids=ids, spliced_length=L, inputs_embeds=x,
                      logits=logits0, step_logits=step_logits, greedy_ids=greedy,
                      image_debug=img_dbg, llm_debug=llm_dbg)
        if check_recompute:
            # the whole sequence again in one causal pass, no cache: logits at the positions that produced
            # each greedy token must equal the incremental ones
            xf = torch.cat([x, self.embed(greedy[:-1])], dim=0) if n_new > 1 else x
            hf = self.llm_forward(xf, 0, [])
            full = self.logits(hf[L - 1:])
            inc = torch.stack(step_logits)
            result["recompute_max_abs_diff"] = float((full - inc).abs().max())
            result["recompute_argmax_equal"] = bool((full.argmax(-1) == inc.argmax(-1)).all())
        return result
