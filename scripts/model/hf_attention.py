"""Hugging Face's eager attention for the student's Block, for graphs shaped like onnx-community exports.

The student (student.py) reads grouped-query K/V by broadcasting: queries are reshaped to
[b, kv, rep, s, hd] and K/V are only unsqueezed, so its graph never copies the cache per query head.
transformers' Qwen2/Llama attention instead calls repeat_kv, which torch.onnx exports as
Unsqueeze -> Expand -> Reshape on the whole concatenated cache at every layer and step, and the
onnx-community files users run carry that pattern. The stand-ins and the HF-style fixture use this
forward so the benchmark's floor and the engine's graph rewrites (issue 13) meet the real thing.
Same weights, same maths, same outputs as Block.forward (up to float rounding).
"""
import math

import torch
import torch.nn.functional as F

from student import Block, rope


def hf_forward(self, x, cos, sin, bias, past_k=None, past_v=None):
    c = self.c
    b, s, _ = x.shape
    kv, hd, heads = c.num_key_value_heads, c.head_dim, c.num_attention_heads
    rep = heads // kv
    h = self.input_layernorm(x)
    q = self.q_proj(h).view(b, s, heads, hd).transpose(1, 2)  # b H s hd (head = kv_index * rep + r)
    k = self.k_proj(h).view(b, s, kv, hd).transpose(1, 2)
    v = self.v_proj(h).view(b, s, kv, hd).transpose(1, 2)
    q = rope(q, cos.unsqueeze(1), sin.unsqueeze(1))
    k = rope(k, cos.unsqueeze(1), sin.unsqueeze(1))
    if past_k is not None:
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
    t = k.shape[2]
    # transformers' repeat_kv
    kr = k[:, :, None, :, :].expand(b, kv, rep, t, hd).reshape(b, heads, t, hd)
    vr = v[:, :, None, :, :].expand(b, kv, rep, t, hd).reshape(b, heads, t, hd)
    att = torch.matmul(q, kr.transpose(2, 3)) * (1.0 / math.sqrt(hd))
    att = att + bias.unsqueeze(1)  # b s t -> b 1 s t
    att = torch.softmax(att, dim=-1)
    o = torch.matmul(att, vr).transpose(1, 2).reshape(b, s, heads * hd)
    x = x + self.o_proj(o)
    h = self.post_attention_layernorm(x)
    x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
    return x, k, v


def use_hf_attention():
    """Every Block built after (and before) this call runs transformers' eager attention."""
    Block.forward = hf_forward
