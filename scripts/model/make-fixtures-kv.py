"""Fixtures for the engine's graph rewrites (issue 13), with tiny-random's weights (same seed and init).

    /usr/bin/python3 scripts/model/make-fixtures-kv.py   (from the repo root)

- tiny-random-hf: onnx-community layout exported with transformers' eager attention (repeat_kv as
  Unsqueeze -> Expand -> Reshape, scripts/model/hf_attention.py), fp32 and q4 (MatMulNBits with
  accuracy_level 0, as onnx-community files are). Same maths as tiny-random, so PyTorch's greedy
  tokens in tiny-random/reference.json hold for its fp32 file.
- tiny-random-genai-combined: onnxruntime-genai layout with one combined cache tensor per layer,
  past_%d / present_%d of shape [2, batch, kv_heads, seq, head_dim] (as onnxruntime-genai's own GPT-2
  test models have), int32 ids and mask, no position_ids.
"""
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtok  # noqa: E402
from export_onnx import OPSET, export, quantize_q4, save  # noqa: E402
from hf_attention import use_hf_attention  # noqa: E402
from fixture_model import tiny_random  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "models")


class CombinedWrapper(torch.nn.Module):
    """genai names, one [2, b, kv, t, hd] tensor per layer in and out; positions from the mask's cumsum."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, *past_flat):
        ids = input_ids.to(torch.int64)
        mask = attention_mask.to(torch.int64)
        s, total = ids.shape[1], mask.shape[1]
        pos = (torch.cumsum(mask, dim=-1) - 1).clamp(min=0)[:, total - s:]
        past = [(p[0], p[1]) for p in past_flat]
        logits, presents = self.m(ids, mask, pos, past)
        return (logits, *[torch.stack([k, v], 0) for k, v in presents])


def export_combined(m, c, path):
    n, kv, hd = c.num_hidden_layers, c.num_key_value_heads, c.head_dim
    args = [torch.ones(1, 3, dtype=torch.int32), torch.ones(1, 5, dtype=torch.int32)]
    names = ["input_ids", "attention_mask"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    outs = ["logits"]
    for i in range(n):
        args.append(torch.zeros(2, 1, kv, 2, hd))
        names.append(f"past_{i}")
        dyn[f"past_{i}"] = {1: "batch_size", 3: "past_sequence_length"}
        outs.append(f"present_{i}")
        dyn[f"present_{i}"] = {1: "batch_size", 3: "total_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(CombinedWrapper(m), tuple(args), path, input_names=names, output_names=outs,
                          dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=True)


def main():
    src = os.path.join(OUT, "tiny-random")
    m, c = tiny_random()
    g = os.path.join(OUT, "tiny-random-genai-combined")
    os.makedirs(g, exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, f), os.path.join(g, f))
    export_combined(m, c, os.path.join(g, "model.onnx"))
    with open(os.path.join(OUT, "tiny-random-genai", "genai_config.json")) as f:
        cfg = json.load(f)
    cfg["model"]["decoder"]["inputs"] = {"input_ids": "input_ids", "attention_mask": "attention_mask", "past_names": "past_%d"}
    cfg["model"]["decoder"]["outputs"] = {"logits": "logits", "present_names": "present_%d"}
    with open(os.path.join(g, "genai_config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")

    use_hf_attention()
    d = os.path.join(OUT, "tiny-random-hf")
    os.makedirs(os.path.join(d, "onnx"), exist_ok=True)
    for f in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, f), os.path.join(d, f))
    fp32 = export(m, os.path.join(d, "onnx", "model.onnx"), "community")
    save(quantize_q4(fp32, block=16, embed_int8=False, accuracy_level=0), os.path.join(d, "onnx", "model_q4.onnx"))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
