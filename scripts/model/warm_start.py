"""Warm start from an earlier shipped reasond-tiny ONNX export (issue 15).

The 1.07M-parameter model of issue 3 already computes the ones-first sums, products, clock
borrows and ordering chains that the new traces reuse. On a shared 2-core machine (~600-1,500
tokens/s instead of ~8,000) a cold start could not learn five families in the time budget, so
SFT starts from those weights: the ONNX initializers are read back in graph order (q, k, v, o,
gate, up, down per layer, stored transposed), and extra layers are appended as identity blocks
(o_proj and down_proj zero), so the grown model computes exactly what the old one did at step 0.
"""
import onnx
import torch
from onnx import numpy_helper


def load_onnx_weights(model, path):
    m = onnx.load(path)
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    mats = [t for n, t in init.items() if n.startswith("onnx::MatMul")]
    old_layers = len(mats) // 7
    c = model.c
    with torch.no_grad():
        model.embed_tokens.weight.copy_(init["m.embed_tokens.weight"])
        model.norm.weight.copy_(init["m.norm.weight"])
        for i in range(min(old_layers, c.num_hidden_layers)):
            l = model.layers[i]
            l.input_layernorm.weight.copy_(init[f"m.layers.{i}.input_layernorm.weight"])
            l.post_attention_layernorm.weight.copy_(init[f"m.layers.{i}.post_attention_layernorm.weight"])
            for j, lin in enumerate([l.q_proj, l.k_proj, l.v_proj, l.o_proj, l.gate_proj, l.up_proj, l.down_proj]):
                w = mats[7 * i + j].t()
                if lin.weight.shape == w.shape:
                    lin.weight.copy_(w)
                else:  # a wider MLP: the old units first, the new ones keep their init (down_proj part zero)
                    lin.weight.zero_() if lin is l.down_proj else None
                    lin.weight[:w.shape[0], :w.shape[1]].copy_(w)
        for i in range(old_layers, c.num_hidden_layers):  # new layers start as identity blocks
            model.layers[i].o_proj.weight.zero_()
            model.layers[i].down_proj.weight.zero_()
    return old_layers
