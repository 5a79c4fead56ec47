"""Random-weight fixture models for the engine tests (issue 3).

    /usr/bin/python3 scripts/model/make-fixtures.py   (from the repo root)

Writes test/fixtures/models/tiny-random (onnx-community layout, fp32 with external
data + int8) and tiny-random-genai (onnxruntime-genai layout, same weights), plus
tiny-random/reference.json with PyTorch greedy tokens. Fixed seed: re-running gives
the same weights and the same reference tokens.
"""
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtok  # noqa: E402
from fixture_model import SEED, tiny_random  # noqa: E402
from student import greedy_nocache  # noqa: E402
from export_onnx import export, quantize_int8, save  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "models")
N_NEW = 24
PROMPTS = [
    "Hello",
    "What is 2 + 2?",
    "Grüße — 東京 🙂",
    "A train leaves at 9:40 and arrives at 11:15. How long is the trip?",
    "Write one word.",
    "Ann is taller than Ben. Ben is taller than Cal. Who is the tallest?",
    "12 * 7 = ?",
    "List three colours: red, green,",
    "The quick brown fox jumps over the lazy dog.",
    "x",
    "Tab\tand\nnewline",
    "Ünïcödé ñ 日本語 ✓ 🚀🚀",
]
SYSTEM_FOR = {4: "You are terse."}  # one prompt with a system message


def config_json(c, eos):
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "hidden_size": c.hidden_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads,
        "head_dim": c.head_dim,
        "intermediate_size": c.intermediate_size,
        "vocab_size": c.vocab_size,
        "max_position_embeddings": c.max_position_embeddings,
        "rope_theta": c.rope_theta,
        "rms_norm_eps": c.rms_norm_eps,
        "hidden_act": "silu",
        "bos_token_id": rtok.ENDOFTEXT,
        "eos_token_id": eos[0],
        "pad_token_id": rtok.ENDOFTEXT,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
    }


def dump(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    m, c = tiny_random()
    eos = [rtok.IM_END, rtok.ENDOFTEXT]

    d = os.path.join(OUT, "tiny-random")
    os.makedirs(os.path.join(d, "onnx"), exist_ok=True)
    dump(os.path.join(d, "config.json"), config_json(c, eos))
    dump(os.path.join(d, "generation_config.json"),
         {"bos_token_id": rtok.ENDOFTEXT, "eos_token_id": eos, "pad_token_id": rtok.ENDOFTEXT,
          "do_sample": False, "max_new_tokens": 64})
    rtok.write_tokenizer(d, think=False, max_len=c.max_position_embeddings)
    fp32 = export(m, os.path.join(d, "onnx", "model.onnx"), "community", external_data=True)
    save(quantize_int8(fp32), os.path.join(d, "onnx", "model_quantized.onnx"))

    g = os.path.join(OUT, "tiny-random-genai")
    os.makedirs(g, exist_ok=True)
    rtok.write_tokenizer(g, think=False, max_len=c.max_position_embeddings)
    export(m, os.path.join(g, "model.onnx"), "genai")
    dump(os.path.join(g, "genai_config.json"), {
        "model": {
            "bos_token_id": rtok.ENDOFTEXT,
            "context_length": c.max_position_embeddings,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": "model.onnx",
                "head_size": c.head_dim,
                "hidden_size": c.hidden_size,
                "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                           "past_key_names": "past.%d.key", "past_value_names": "past.%d.value"},
                "outputs": {"logits": "logits", "present_key_names": "cache.%d.key",
                            "present_value_names": "cache.%d.value"},
                "num_attention_heads": c.num_attention_heads,
                "num_hidden_layers": c.num_hidden_layers,
                "num_key_value_heads": c.num_key_value_heads,
            },
            "eos_token_id": eos,
            "pad_token_id": rtok.ENDOFTEXT,
            "type": "qwen2",
            "vocab_size": c.vocab_size,
        },
        "search": {"do_sample": False, "max_length": c.max_position_embeddings, "num_beams": 1,
                   "temperature": 1.0, "top_k": 1, "top_p": 1.0},
    })

    cases = []
    for i, p in enumerate(PROMPTS):
        msgs = ([{"role": "system", "content": SYSTEM_FOR[i]}] if i in SYSTEM_FOR else []) + \
               [{"role": "user", "content": p}]
        text = rtok.render_chat(msgs, True, think=False)
        ids = rtok.encode(text)
        out = greedy_nocache(m, ids, N_NEW)
        cases.append({"messages": msgs, "prompt": text, "input_ids": ids, "output_ids": out})
    dump(os.path.join(d, "reference.json"), {
        "description": "PyTorch fp32 greedy continuation (no KV cache), chat template with add_generation_prompt, "
                       f"{N_NEW} new tokens, not stopping at eos. Made by scripts/model/make-fixtures.py (seed {SEED}).",
        "max_new_tokens": N_NEW,
        "stop_at_eos": False,
        "cases": cases,
    })
    print("params", m.n_params())
    # Graphs that legitimately differ from PyTorch (int8 weights; fp16 KV cache) get their own
    # expected tokens, produced by onnxruntime-node and labelled as such.
    node = ["node", os.path.join(ROOT, "scripts", "model", "ort-greedy.mjs"), "ref"]
    ref = os.path.join(d, "reference.json")
    subprocess.run(node + [d, "onnx/model.onnx", ref], check=True, cwd=ROOT)
    subprocess.run(node + [d, "onnx/model_quantized.onnx", ref, os.path.join(d, "reference-quantized.ort.json")],
                   check=True, cwd=ROOT)
    subprocess.run(node + [g, "model.onnx", ref, os.path.join(g, "reference.ort.json")], check=True, cwd=ROOT)


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
