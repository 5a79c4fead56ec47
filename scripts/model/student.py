"""Llama/Qwen-style decoder (RMSNorm, RoPE, GQA, SwiGLU, tied embeddings) — issue 3.

One module serves training (no cache) and ONNX export (KV cache in/out, with the
onnx-community or the onnxruntime-genai graph interface).
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

# Quantization-aware training (issue 15): when on, every projection and the LM head compute with
# their weights rounded as the shipped q4 file rounds them (asymmetric 4-bit, blocks of QAT["block"]
# along the input dimension, as export_onnx.pack_q4) and their inputs rounded as MatMulNBits with
# accuracy_level 4 rounds them (symmetric int8 per block); the embedding table is rounded as int8
# per row (export_onnx.quantize_int8). Gradients pass straight through the rounding. Off for export.
QAT = {"on": False, "block": 32}


def _ste(x, xq):
    return x + (xq - x).detach()


def fq_weight_q4(w):
    """w [N, K] (a Linear weight, out x in) -> w with each block of K rounded to 4 bits."""
    n, k = w.shape
    b = QAT["block"]
    wb = w.reshape(n, k // b, b)
    with torch.no_grad():
        mn = wb.min(-1, keepdim=True)[0].clamp(max=0.0)
        mx = wb.max(-1, keepdim=True)[0].clamp(min=0.0)
        scale = (mx - mn) / 15.0
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        zp = torch.clamp(torch.round(-mn / scale), 0, 15)
    q = torch.clamp(torch.round(wb / scale) + zp, 0, 15)
    return _ste(w, ((q - zp) * scale).reshape(n, k))


def fq_act_int8(x):
    """x [..., K] -> rounded to symmetric int8 per block of K (MatMulNBits accuracy_level 4)."""
    b = QAT["block"]
    xb = x.reshape(*x.shape[:-1], x.shape[-1] // b, b)
    with torch.no_grad():
        scale = xb.abs().amax(-1, keepdim=True) / 127.0
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return _ste(x, (torch.round(xb / scale) * scale).reshape(x.shape))


def fq_rows_int8(w):
    """w [V, d] (the embedding table) -> each row rounded to symmetric int8 (export_onnx.quantize_int8)."""
    with torch.no_grad():
        scale = w.abs().amax(-1, keepdim=True) / 127.0
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return _ste(w, torch.round(w / scale) * scale)


def lin(layer, x):
    if not QAT["on"]:
        return layer(x)
    return F.linear(fq_act_int8(x), fq_weight_q4(layer.weight))


class Cfg:
    def __init__(self, vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
                 num_key_value_heads, head_dim, intermediate_size, max_position_embeddings,
                 rope_theta=10000.0, rms_norm_eps=1e-6):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.head_dim = head_dim
        self.intermediate_size = intermediate_size
        self.max_position_embeddings = max_position_embeddings
        self.rope_theta = rope_theta
        self.rms_norm_eps = rms_norm_eps

    def to_dict(self):
        return dict(self.__dict__)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    # HF "rotate_half" convention: pairs are (i, i + head_dim/2)
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d, hd = c.hidden_size, c.head_dim
        self.input_layernorm = RMSNorm(d, c.rms_norm_eps)
        self.q_proj = nn.Linear(d, c.num_attention_heads * hd, bias=False)
        self.k_proj = nn.Linear(d, c.num_key_value_heads * hd, bias=False)
        self.v_proj = nn.Linear(d, c.num_key_value_heads * hd, bias=False)
        self.o_proj = nn.Linear(c.num_attention_heads * hd, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d, c.rms_norm_eps)
        self.gate_proj = nn.Linear(d, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(d, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, d, bias=False)

    def forward(self, x, cos, sin, bias, past_k=None, past_v=None):
        c = self.c
        b, s, _ = x.shape
        kv, hd = c.num_key_value_heads, c.head_dim
        rep = c.num_attention_heads // kv
        h = self.input_layernorm(x)
        # q heads grouped per kv head: head index = kv_index * rep + r (HF repeat_kv order)
        q = lin(self.q_proj, h).view(b, s, kv, rep, hd).permute(0, 2, 3, 1, 4)  # b kv rep s hd
        k = lin(self.k_proj, h).view(b, s, kv, hd).transpose(1, 2)  # b kv s hd
        v = lin(self.v_proj, h).view(b, s, kv, hd).transpose(1, 2)
        q = rope(q, cos.unsqueeze(1).unsqueeze(1), sin.unsqueeze(1).unsqueeze(1))
        k = rope(k, cos.unsqueeze(1), sin.unsqueeze(1))
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = torch.matmul(q, k.unsqueeze(2).transpose(-1, -2)) * (1.0 / math.sqrt(hd))  # b kv rep s t
        att = att + bias.unsqueeze(1).unsqueeze(1)  # bias: b s t -> b 1 1 s t
        att = torch.softmax(att, dim=-1)
        o = torch.matmul(att, v.unsqueeze(2))  # b kv rep s hd
        o = o.permute(0, 3, 1, 2, 4).reshape(b, s, c.num_attention_heads * hd)
        x = x + lin(self.o_proj, o)
        h = self.post_attention_layernorm(x)
        x = x + lin(self.down_proj, F.silu(lin(self.gate_proj, h)) * lin(self.up_proj, h))
        return x, k, v


class Student(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Block(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float32) / c.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def init_weights(self, gen, std=0.02):
        for n, p in self.named_parameters():
            if p.dim() == 2:
                with torch.no_grad():
                    p.copy_(torch.randn(p.shape, generator=gen) * std)
        # scale residual projections (GPT-2 style) for a stable start
        for l in self.layers:
            with torch.no_grad():
                l.o_proj.weight.mul_(1 / math.sqrt(2 * self.c.num_hidden_layers))
                l.down_proj.weight.mul_(1 / math.sqrt(2 * self.c.num_hidden_layers))

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def rot(self, position_ids):
        f = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq  # b s hd/2
        emb = torch.cat((f, f), dim=-1)
        return emb.cos(), emb.sin()

    def forward(self, input_ids, attention_mask, position_ids, past=None):
        """input_ids/position_ids [b,s]; attention_mask [b, past+s]; past: list of (k, v)."""
        b, s = input_ids.shape
        total = attention_mask.shape[1]
        if QAT["on"]:
            x = F.embedding(input_ids, fq_rows_int8(self.embed_tokens.weight))
        else:
            x = self.embed_tokens(input_ids)
        cos, sin = self.rot(position_ids)
        qpos = torch.arange(s, device=input_ids.device).unsqueeze(1) + (total - s)
        kpos = torch.arange(total, device=input_ids.device).unsqueeze(0)
        allowed = (kpos <= qpos).unsqueeze(0) & (attention_mask.unsqueeze(1) > 0)  # b s t
        bias = torch.where(allowed, torch.zeros((), dtype=x.dtype), torch.full((), -1e9, dtype=x.dtype))
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = past[i] if past is not None else (None, None)
            x, k, v = layer(x, cos, sin, bias, pk, pv)
            presents.append((k, v))
        x = self.norm(x)
        if QAT["on"]:
            logits = F.linear(fq_act_int8(x), fq_weight_q4(self.embed_tokens.weight))
        else:
            logits = torch.matmul(x, self.embed_tokens.weight.t())
        return logits, presents

    def train_logits(self, input_ids):
        b, s = input_ids.shape
        pos = torch.arange(s).unsqueeze(0).expand(b, s)
        mask = torch.ones(b, s, dtype=torch.long)
        return self.forward(input_ids, mask, pos)[0]


@torch.no_grad()
def greedy_nocache(model, prompt, n_new, stop=None):
    """Reference decoding: full forward each step, no KV cache (what reference.json records)."""
    ids = list(prompt)
    out = []
    for _ in range(n_new):
        logits = model.train_logits(torch.tensor([ids]))
        t = int(torch.argmax(logits[0, -1]))
        out.append(t)
        ids.append(t)
        if stop is not None and t in stop:
            break
    return out


@torch.no_grad()
def generate_batch(model, prompts, max_new, stop_ids, temperature=0.0, gen=None):
    """Batched decoding with a KV cache; prompts left-padded. Returns list of token lists (incl. stop)."""
    b = len(prompts)
    L = max(len(p) for p in prompts)
    ids = torch.zeros(b, L, dtype=torch.long)
    mask = torch.zeros(b, L, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p)
        mask[i, L - len(p):] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    logits, past = model(ids, mask, pos)
    outs = [[] for _ in range(b)]
    done = torch.zeros(b, dtype=torch.bool)
    stop = torch.tensor(sorted(stop_ids))
    last = logits[:, -1]
    nextpos = pos[:, -1:] + 1
    for _ in range(max_new):
        if temperature > 0:
            probs = torch.softmax(last / temperature, -1)
            t = torch.multinomial(probs, 1, generator=gen)[:, 0]
        else:
            t = last.argmax(-1)
        for i in range(b):
            if not done[i]:
                outs[i].append(int(t[i]))
        done |= torch.isin(t, stop)
        if bool(done.all()):
            break
        mask = torch.cat([mask, torch.ones(b, 1, dtype=torch.long)], 1)
        logits, past = model(t.unsqueeze(1), mask, nextpos, past)
        nextpos = nextpos + 1
        last = logits[:, -1]
    return outs
