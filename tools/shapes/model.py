"""The trainable VILA 1.5 graph (SigLIP tower, mlp_downsample projector, Llama decoder), batched, with
parameter names equal to the published checkpoint keys, so its state dict is written as it is.

Semantics follow tools/vila_torch.py (the independent reference, which reads the written folder back):
SigLIP embeddings + pre-norm blocks (LayerNorm eps 1e-6, tanh GELU), features = hidden_states[-2];
DownSampleBlock (zero-padded odd grid, 2x2 merge as upstream's flat_square) -> LayerNorm(eps 1e-5) ->
Linear -> GELU(erf) -> Linear; Llama with RMSNorm, rotate-half RoPE, causal attention, SiLU MLP.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vila_torch import VilaTorch  # noqa: E402  (DownSampleBlock.flat_square, verbatim upstream)


class SiglipBlock(nn.Module):
    def __init__(self, C, I, heads):
        super().__init__()
        self.heads = heads
        self.layer_norm1 = nn.LayerNorm(C, eps=1e-6)
        self.layer_norm2 = nn.LayerNorm(C, eps=1e-6)
        self.self_attn = nn.Module()
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            setattr(self.self_attn, n, nn.Linear(C, C))
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(C, I)
        self.mlp.fc2 = nn.Linear(I, C)

    def forward(self, x):
        B, L, C = x.shape
        hd = C // self.heads
        h = self.layer_norm1(x)
        a = self.self_attn
        q, k, v = (p(h).view(B, L, self.heads, hd).transpose(1, 2) for p in (a.q_proj, a.k_proj, a.v_proj))
        att = torch.softmax(q @ k.transpose(-1, -2) * hd ** -0.5, dim=-1)
        x = x + a.out_proj((att @ v).transpose(1, 2).reshape(B, L, C))
        h = self.layer_norm2(x)
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(h), approximate="tanh"))


class SiglipTower(nn.Module):
    def __init__(self, d):
        super().__init__()
        C, p, g = d["v_hidden"], d["patch_size"], d["image_size"] // d["patch_size"]
        self.patch = p
        self.select_layer = d["select_layer"]
        self.vision_model = nn.Module()
        vm = self.vision_model
        vm.embeddings = nn.Module()
        vm.embeddings.patch_embedding = nn.Conv2d(3, C, p, stride=p)
        vm.embeddings.position_embedding = nn.Embedding(g * g, C)
        vm.encoder = nn.Module()
        vm.encoder.layers = nn.ModuleList(SiglipBlock(C, d["v_inter"], d["v_heads"]) for _ in range(d["v_layers"]))
        # unused by VILA (hidden_states[-2] is before it), kept so the folder has SiglipVisionModel's keys
        vm.post_layernorm = nn.LayerNorm(C, eps=1e-6)

    def forward(self, px):
        vm = self.vision_model
        x = vm.embeddings.patch_embedding(px).flatten(2).transpose(1, 2) + vm.embeddings.position_embedding.weight
        n_run = len(vm.encoder.layers) + 1 + self.select_layer  # hidden_states[select] needs this many blocks
        for blk in vm.encoder.layers[:n_run]:
            x = blk(x)
        return x


class Projector(nn.Module):
    """mlp_downsample: Sequential(DownSampleBlock, LayerNorm(4C), Linear(4C, D), GELU, Linear(D, D))."""

    def __init__(self, C, D):
        super().__init__()
        self.layers = nn.Sequential(nn.Identity(), nn.LayerNorm(4 * C, eps=1e-5), nn.Linear(4 * C, D), nn.GELU(),
                                    nn.Linear(D, D))

    def forward(self, feats):
        B, L, C = feats.shape
        g = int(math.isqrt(L))
        x = VilaTorch.flat_square(feats.contiguous().reshape(B, g, g, C))  # memory layout only
        x = x.reshape(B, -1, x.shape[-1])
        return self.layers(x)


class RMSNorm(nn.Module):
    def __init__(self, D, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(D))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class LlamaLayer(nn.Module):
    def __init__(self, d):
        super().__init__()
        D, I = d["hidden"], d["inter"]
        self.heads, self.kv = d["heads"], d["kv_heads"]
        hd = D // self.heads
        self.input_layernorm = RMSNorm(D, d["rms_eps"])
        self.post_attention_layernorm = RMSNorm(D, d["rms_eps"])
        self.self_attn = nn.Module()
        self.self_attn.q_proj = nn.Linear(D, D, bias=False)
        self.self_attn.k_proj = nn.Linear(D, self.kv * hd, bias=False)
        self.self_attn.v_proj = nn.Linear(D, self.kv * hd, bias=False)
        self.self_attn.o_proj = nn.Linear(D, D, bias=False)
        self.mlp = nn.Module()
        self.mlp.gate_proj = nn.Linear(D, I, bias=False)
        self.mlp.up_proj = nn.Linear(D, I, bias=False)
        self.mlp.down_proj = nn.Linear(I, D, bias=False)

    def forward(self, x, cos, sin, past=None, keep=None):
        """x (B, T, D) at positions start..start+T-1 (cos/sin (T, hd)); past: (k, v) of earlier positions,
        (Bp, kv, S, hd) with Bp 1 (shared prefix) or B. Returns (x, (k, v) of this call). keep: a list that
        receives the attention probabilities (B, heads, T, S + T), for training-only losses."""
        B, T, D = x.shape
        hd = D // self.heads
        a = self.self_attn
        h = self.input_layernorm(x)
        q = a.q_proj(h).view(B, T, self.heads, hd).transpose(1, 2)
        k = a.k_proj(h).view(B, T, self.kv, hd).transpose(1, 2)
        v = a.v_proj(h).view(B, T, self.kv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        own = (k, v)
        S0 = 0
        if past is not None:
            pk, pv = past
            S0 = pk.shape[2]
            k = torch.cat([pk.expand(B, -1, -1, -1), k], dim=2)
            v = torch.cat([pv.expand(B, -1, -1, -1), v], dim=2)
        rep = self.heads // self.kv
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        att = q @ k.transpose(-1, -2) / math.sqrt(hd)
        qpos = torch.arange(T, device=x.device)[:, None] + S0
        kpos = torch.arange(S0 + T, device=x.device)[None, :]
        att = att.masked_fill(kpos > qpos, float("-inf"))
        probs = torch.softmax(att, dim=-1)
        if keep is not None:
            keep.append(probs)
        o = (probs @ v).transpose(1, 2).reshape(B, T, D)
        x = x + a.o_proj(o)
        h = self.post_attention_layernorm(x)
        m = self.mlp
        return x + m.down_proj(F.silu(m.gate_proj(h)) * m.up_proj(h)), own


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Llama(nn.Module):
    def __init__(self, d):
        super().__init__()
        D = d["hidden"]
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(d["vocab"], D)
        self.model.layers = nn.ModuleList(LlamaLayer(d) for _ in range(d["layers"]))
        self.model.norm = RMSNorm(D, d["rms_eps"])
        self.lm_head = nn.Linear(D, d["vocab"], bias=False)
        hd = D // d["heads"]
        inv = 1.0 / (d["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
        t = torch.arange(d["max_pos"]).float()
        emb = torch.cat([torch.outer(t, inv)] * 2, dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)

    def forward(self, x, start=0, past=None, attention=None):
        """x (B, T, D) embeddings; past: per-layer (k, v) for positions < start. Returns normed hidden
        states (B, T, D) and the per-layer (k, v) of these positions. attention: {layer index: list}, each
        list receives that layer's attention probabilities (for training-only losses)."""
        T = x.shape[1]
        cos, sin = self.cos[start:start + T], self.sin[start:start + T]
        kvs = []
        for i, layer in enumerate(self.model.layers):
            x, kv = layer(x, cos, sin, None if past is None else past[i], (attention or {}).get(i))
            kvs.append(kv)
        return self.model.norm(x), kvs


class VilaShapes(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d = d
        self.vision_tower = SiglipTower(d)
        self.mm_projector = Projector(d["v_hidden"], d["hidden"])
        self.llm = Llama(d)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def encode_images(self, px):
        """(N, 3, S, S) normalised pixels -> (N, tokens, D)."""
        return self.mm_projector(self.vision_tower(px))

    def state_dicts(self):
        """{'vision_tower': ..., 'mm_projector': ..., 'llm': ...} with the published keys."""
        return {name: getattr(self, name).state_dict() for name in ("vision_tower", "mm_projector", "llm")}
