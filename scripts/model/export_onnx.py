"""ONNX export and weight quantization for the student (issue 3).

onnx-community interface: input_ids/attention_mask/position_ids int64,
past_key_values.N.key|value -> logits, present.N.key|value (fp32).
onnxruntime-genai interface (fixtures only): no position_ids (cumsum of the mask),
int32 ids and mask, fp16 KV cache named past.%d.* / cache.%d.*.
"""
import os
import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

OPSET = 17


class CommunityWrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        n = self.m.c.num_hidden_layers
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(n)]
        logits, presents = self.m(input_ids, attention_mask, position_ids, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


class GenaiWrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, *past_flat):
        n = self.m.c.num_hidden_layers
        ids = input_ids.to(torch.int64)
        mask = attention_mask.to(torch.int64)
        s = ids.shape[1]
        total = mask.shape[1]
        # genai feeds no position_ids: position = (number of attended tokens before) - 1
        pos = (torch.cumsum(mask, dim=-1) - 1).clamp(min=0)
        pos = pos[:, total - s:]
        past = [(past_flat[2 * i].to(torch.float32), past_flat[2 * i + 1].to(torch.float32)) for i in range(n)]
        logits, presents = self.m(ids, mask, pos, past)
        out = [logits]
        for k, v in presents:
            out += [k.to(torch.float16), v.to(torch.float16)]
        return tuple(out)


def export(model, path, variant="community", external_data=False):
    c = model.c
    model.eval()
    n, kv, hd = c.num_hidden_layers, c.num_key_value_heads, c.head_dim
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    b, s, p = 1, 3, 2
    if variant == "community":
        w = CommunityWrapper(model)
        pk = lambda i: f"past_key_values.{i}.key"
        pv = lambda i: f"past_key_values.{i}.value"
        ok = lambda i: f"present.{i}.key"
        ov = lambda i: f"present.{i}.value"
        args = [torch.ones(b, s, dtype=torch.long), torch.ones(b, p + s, dtype=torch.long),
                torch.arange(p, p + s).unsqueeze(0)]
        names = ["input_ids", "attention_mask", "position_ids"]
        kvdt = torch.float32
    else:
        w = GenaiWrapper(model)
        pk = lambda i: f"past.{i}.key"
        pv = lambda i: f"past.{i}.value"
        ok = lambda i: f"cache.{i}.key"
        ov = lambda i: f"cache.{i}.value"
        args = [torch.ones(b, s, dtype=torch.int32), torch.ones(b, p + s, dtype=torch.int32)]
        names = ["input_ids", "attention_mask"]
        kvdt = torch.float16
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    if variant == "community":
        dyn["position_ids"] = {0: "batch_size", 1: "sequence_length"}
    outs = ["logits"]
    for i in range(n):
        for nm in (pk(i), pv(i)):
            args.append(torch.zeros(b, kv, p, hd, dtype=kvdt))
            names.append(nm)
            dyn[nm] = {0: "batch_size", 2: "past_sequence_length"}
        for nm in (ok(i), ov(i)):
            outs.append(nm)
            dyn[nm] = {0: "batch_size", 2: "total_sequence_length"}
    tmp = path + ".tmp.onnx"
    with torch.no_grad():
        torch.onnx.export(w, tuple(args), tmp, input_names=names, output_names=outs,
                          dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=True)
    m = onnx.load(tmp)
    os.remove(tmp)
    onnx.checker.check_model(m)
    save(m, path, external_data)
    return m


def save(m, path, external_data=False):
    if external_data:
        m = onnx.ModelProto.FromString(m.SerializeToString())  # save_model converts in place
        loc = os.path.basename(path) + "_data"
        if os.path.exists(os.path.join(os.path.dirname(path), loc)):
            os.remove(os.path.join(os.path.dirname(path), loc))
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=loc, size_threshold=0)
    else:
        onnx.save_model(m, path)


def _consumers(g):
    cons = {}
    for node in g.node:
        for i, nm in enumerate(node.input):
            cons.setdefault(nm, []).append((node, i))
    return cons


def quantize_int8(m, min_size=256):
    """Weight-only symmetric int8, per output channel, DequantizeLinear feeding the original consumer.

    MatMul B [K, N] is quantized per column (axis 1); a Gather table [V, d] (the tied
    embedding) per row (axis 0). The float initializer is replaced, so a weight used by
    both Gather and the lm_head MatMul stays one tensor.

    A table only a Gather reads is gathered as int8 first and only the gathered rows are
    scaled (Gather, Cast, Gather of the scales, Mul: the same values as DequantizeLinear then
    Gather). DequantizeLinear in front of the Gather made onnxruntime dequantize the whole
    table on every run: 545 MB and tens of ms per decode step for a Qwen2.5-0.5B-sized
    vocabulary (docs/BENCHMARKS.md).
    """
    m = onnx.ModelProto.FromString(m.SerializeToString())
    g = m.graph
    cons = _consumers(g)
    new_inits, new_nodes, gathers = [], [], {}
    for init in list(g.initializer):
        if init.data_type != TensorProto.FLOAT or len(init.dims) != 2:
            continue
        w = numpy_helper.to_array(init)
        if w.size < min_size:
            continue
        users = cons.get(init.name, [])
        ops = {(u.op_type, i) for u, i in users}
        if ops == {("Gather", 0)} and all(next((a.i for a in u.attribute if a.name == "axis"), 0) == 0 for u, _ in users):
            amax = np.abs(w).max(axis=1)
            scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
            q = np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8)
            g.initializer.remove(init)
            new_inits += [numpy_helper.from_array(q, init.name + "_quantized"),
                          numpy_helper.from_array(scale.reshape(-1, 1), init.name + "_scale")]
            gathers[init.name] = [u for u, _ in users]
            continue
        if ops == {("MatMul", 1)}:
            axis = 1
        elif ops <= {("MatMul", 1), ("Gather", 0), ("Transpose", 0)} and ops:
            axis = 0 if ("Gather", 0) in ops else 1
        else:
            continue
        amax = np.abs(w).max(axis=1 - axis)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shp = [1, 1]
        shp[axis] = -1
        q = np.clip(np.round(w / scale.reshape(shp)), -127, 127).astype(np.int8)
        g.initializer.remove(init)
        base = init.name
        new_inits += [numpy_helper.from_array(q, base + "_quantized"),
                      numpy_helper.from_array(scale, base + "_scale"),
                      numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), base + "_zero_point")]
        new_nodes.append(helper.make_node("DequantizeLinear", [base + "_quantized", base + "_scale", base + "_zero_point"],
                                          [base], name=base + "_DequantizeLinear", axis=axis))
    g.initializer.extend(new_inits)
    nodes = new_nodes
    for node in g.node:
        if node.op_type == "Gather" and node.input[0] in gathers:
            base, ids, out = node.input[0], node.input[1], node.output[0]
            nodes += [helper.make_node("Gather", [base + "_quantized", ids], [out + "_q"], name=node.name + "_q"),
                      helper.make_node("Cast", [out + "_q"], [out + "_f"], name=node.name + "_cast", to=TensorProto.FLOAT),
                      helper.make_node("Gather", [base + "_scale", ids], [out + "_s"], name=node.name + "_scale"),
                      helper.make_node("Mul", [out + "_f", out + "_s"], [out], name=node.name + "_mul")]
        else:
            nodes.append(node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    return m


def pack_q4(w, block):
    """w [K, N] float -> MatMulNBits B [N, K/block, block/2] uint8, scales [N*K/block], zero points.

    Asymmetric 4-bit per block of `block` values along K; element 2j of a block goes in
    the low nibble of byte j, element 2j+1 in the high nibble (onnxruntime's contrib op
    layout; the dequantized value is (q - zp) * scale).
    """
    K, N = w.shape
    assert K % block == 0
    nb = K // block
    wt = w.T.reshape(N, nb, block).astype(np.float64)
    mn = np.minimum(wt.min(-1), 0.0)
    mx = np.maximum(wt.max(-1), 0.0)
    scale = (mx - mn) / 15.0
    scale = np.where(scale > 0, scale, 1.0)
    zp = np.clip(np.round(-mn / scale), 0, 15)
    q = np.clip(np.round(wt / scale[..., None]) + zp[..., None], 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    zflat = zp.astype(np.uint8)  # [N, nb]
    if nb % 2:
        zflat = np.concatenate([zflat, np.zeros((N, 1), np.uint8)], 1)
    zpacked = (zflat[:, 0::2] | (zflat[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    deq = ((q.astype(np.float64) - zp[..., None]) * scale[..., None]).reshape(N, K).T
    return packed, scale.astype(np.float32).reshape(-1), zpacked, deq.astype(np.float32)


def quantize_q4(m, block=32, embed_int8=True, accuracy_level=4):
    """MatMul with an initializer B -> com.microsoft MatMulNBits (bits=4); the embedding Gather gets int8.

    accuracy_level 4 lets onnxruntime quantize the activations to int8 per block and use its integer
    GEMV kernels: the setting onnxruntime's own Qwen2.5-0.5B figures use, ~1.8x faster decode on this
    machine than level 0 (fp32 compute) at a small, measured cost in logits (issue 13)."""
    m = onnx.ModelProto.FromString(m.SerializeToString())
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    cons = _consumers(g)
    out_nodes = []
    used_elsewhere = set()
    for node in g.node:
        if node.op_type == "MatMul" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            if w.ndim == 2 and w.shape[0] % block == 0:
                K, N = w.shape
                packed, scales, zps, _ = pack_q4(w, block)
                base = node.input[1] + "_Q4"
                g.initializer.extend([numpy_helper.from_array(packed, base),
                                      numpy_helper.from_array(scales, base + "_scales"),
                                      numpy_helper.from_array(zps, base + "_zero_points")])
                out_nodes.append(helper.make_node(
                    "MatMulNBits", [node.input[0], base, base + "_scales", base + "_zero_points"],
                    list(node.output), name=node.name + "_Q4", domain="com.microsoft",
                    K=K, N=N, bits=4, block_size=block, accuracy_level=accuracy_level))
                continue
        out_nodes.append(node)
        used_elsewhere.update(node.input)
    del g.node[:]
    g.node.extend(out_nodes)
    for i in list(g.initializer):
        if i.name in inits and i.name not in used_elsewhere:
            g.initializer.remove(i)
    if not any(o.domain == "com.microsoft" for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    if embed_int8:
        m = quantize_int8(m)
    return m
