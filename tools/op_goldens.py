#!/usr/bin/env python3
"""Goldens for the reference ops, computed with PyTorch's own functions (an implementation
independent of src/ref/). Run with Debian's python3 (torch 1.13):
    /usr/bin/python3 tools/op_goldens.py test/fixtures/ops/torch_ops.json
Each case stores its inputs and the expected output as float32 lists (weights as raw bf16/f16
bits where the op reads them in that dtype)."""
import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(1234)


def bits16(t, dtype):
    """Raw 16-bit patterns of t rounded to dtype (bf16 or f16)."""
    return t.to(dtype).view(torch.int16).to(torch.int32).bitwise_and(0xFFFF).flatten().tolist()


def f32(t):
    return t.float().flatten().tolist()


cases = []


def add(name, op, inputs, expected, **params):
    cases.append({"name": name, "op": op, "inputs": inputs, "expected": f32(expected), "params": params})


# matmul with bf16 and f16 weights, bias, ragged sizes
for wdtype, name in ((torch.bfloat16, "bf16"), (torch.float16, "f16"), (torch.float32, "f32")):
    m, k, n = 3, 37, 11
    x = torch.randn(m, k)
    w = (torch.randn(n, k) / k**0.5).to(wdtype)
    b = (torch.randn(n) * 0.1).to(wdtype)
    out = F.linear(x, w.float(), b.float())
    wd = bits16(w, wdtype) if wdtype != torch.float32 else f32(w)
    bd = bits16(b, wdtype) if wdtype != torch.float32 else f32(b)
    add(f"matmul_{name}", "matmul", {"x": [f32(x), [m, k]], "w": [wd, [n, k], name], "bias": [bd, [n], name]}, out)

# layer_norm (bf16 weights) and rms_norm (HF LlamaRMSNorm formula)
x = torch.randn(4, 45) * 3 + 1
w = (1 + 0.1 * torch.randn(45)).to(torch.bfloat16)
b = (0.1 * torch.randn(45)).to(torch.bfloat16)
add("layer_norm", "layer_norm", {"x": [f32(x), [4, 45]], "weight": [bits16(w, torch.bfloat16), [45], "bf16"], "bias": [bits16(b, torch.bfloat16), [45], "bf16"]},
    F.layer_norm(x, (45,), w.float(), b.float(), 1e-6), eps=1e-6)
var = x.pow(2).mean(-1, keepdim=True)
add("rms_norm", "rms_norm", {"x": [f32(x), [4, 45]], "weight": [bits16(w, torch.bfloat16), [45], "bf16"]}, w.float() * (x * torch.rsqrt(var + 1e-5)), eps=1e-5)

# activations over a wide range, including large magnitudes
x = torch.cat([torch.linspace(-12, 12, 241), torch.randn(100) * 3])
add("gelu_tanh", "gelu_tanh", {"x": [f32(x), [len(x)]]}, F.gelu(x, approximate="tanh"))
add("gelu_erf", "gelu_erf", {"x": [f32(x), [len(x)]]}, F.gelu(x))
g, u = torch.randn(5, 19) * 4, torch.randn(5, 19)
add("silu_mul", "silu_mul", {"gate": [f32(g), [5, 19]], "up": [f32(u), [5, 19]]}, F.silu(g) * u)

# RoPE, rotate-half (HF 4.36), at small and large positions
heads, hd, theta = 3, 16, 10000.0
pos = torch.tensor([0, 1, 7, 1000, 4095])
x = torch.randn(len(pos), heads * hd)
inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2).float() / hd))
freqs = torch.outer(pos.float(), inv_freq)
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
xh = x.view(len(pos), heads, hd)
rot = torch.cat((-xh[..., hd // 2:], xh[..., : hd // 2]), dim=-1)
add("rope", "rope", {"x": [f32(x), [len(pos), heads * hd]]}, (xh * cos + rot * sin).reshape(len(pos), -1), positions=pos.tolist(), heads=heads, headDim=hd, theta=theta)

# attention: causal GQA over a cache with queries at positions 4..6 of 7 valid keys (capacity 9)
H, KV, D, cap, kv_len, q_start, m = 4, 2, 8, 9, 7, 4, 3
q = torch.randn(m, H * D)
k = torch.randn(cap, KV * D)
v = torch.randn(cap, KV * D)
qh = q.view(m, H, D).transpose(0, 1)
kh = k[:kv_len].view(kv_len, KV, D).transpose(0, 1).repeat_interleave(H // KV, dim=0)
vh = v[:kv_len].view(kv_len, KV, D).transpose(0, 1).repeat_interleave(H // KV, dim=0)
scores = qh @ kh.transpose(1, 2) / D**0.5
mask = torch.full((m, kv_len), float("-inf")).triu(q_start + 1)
out = (torch.softmax(scores + mask, dim=-1) @ vh).transpose(0, 1).reshape(m, H * D)
add("attention_causal_gqa", "attention", {"q": [f32(q), [m, H * D]], "k": [f32(k), [cap, KV * D]], "v": [f32(v), [cap, KV * D]]}, out,
    kvLen=kv_len, qStart=q_start, heads=H, kvHeads=KV, headDim=D, causal=True, scale=D**-0.5)
n = 6
q = torch.randn(n, H * D)
k = torch.randn(n, H * D)
v = torch.randn(n, H * D)
qh, kh, vh = (t.view(n, H, D).transpose(0, 1) for t in (q, k, v))
out = (torch.softmax(qh @ kh.transpose(1, 2) * D**-0.5, dim=-1) @ vh).transpose(0, 1).reshape(n, H * D)
add("attention_full", "attention", {"q": [f32(q), [n, H * D]], "k": [f32(k), [n, H * D]], "v": [f32(v), [n, H * D]]}, out,
    kvLen=n, qStart=0, heads=H, kvHeads=H, headDim=D, causal=False, scale=D**-0.5)

# patch embedding: Conv2d kernel = stride = 7 on 31×31 (the last 3 pixels ignored), bf16 weights
px = torch.randn(3, 31, 31)
w = (torch.randn(10, 3, 7, 7) / 12).to(torch.bfloat16)
b = (torch.randn(10) * 0.1).to(torch.bfloat16)
out = F.conv2d(px[None], w.float(), b.float(), stride=7)[0].flatten(1).transpose(0, 1)
add("patch_embed", "patch_embed", {"pixels": [f32(px), [3, 31, 31]], "weight": [bits16(w, torch.bfloat16), [10, 3, 7, 7], "bf16"], "bias": [bits16(b, torch.bfloat16), [10], "bf16"]}, out, patch=7)


# downsample: upstream DownSampleBlock (base_projector.py) as reshape/permute, odd and even grids
def downsample(x, g):
    c = x.shape[-1]
    t = x.reshape(1, g, g, c)
    n, w_, h_, c = t.size()
    if w_ % 2 == 1:
        t = torch.cat([t, torch.zeros((n, 1, h_, c))], dim=1)
        n, w_, h_, c = t.size()
    if h_ % 2 == 1:
        t = torch.cat([t, torch.zeros((n, w_, 1, c))], dim=2)
        n, w_, h_, c = t.size()
    t = t.view(n, w_, h_ // 2, c * 2).permute(0, 2, 1, 3).contiguous().view(n, h_ // 2, w_ // 2, c * 4)
    return t.reshape(-1, c * 4)


for g in (5, 4):
    x = torch.randn(g * g, 3)
    add(f"downsample_2x2_g{g}", "downsample_2x2", {"x": [f32(x), [g * g, 3]]}, downsample(x, g), grid=g)

json.dump({"producer": "tools/op_goldens.py, torch " + torch.__version__, "cases": cases}, open(sys.argv[1], "w"))
print(f"{len(cases)} cases -> {sys.argv[1]}")
