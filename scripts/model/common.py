"""Shared settings for the shipped model build (issue 3)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtok  # noqa: E402
from student import Cfg  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_DIR = os.environ.get("REASOND_MODEL_DIR", os.path.join(ROOT, "models", "reasond-tiny"))
BUILD_DIR = os.environ.get("REASOND_BUILD_DIR", "/tmp/reasond-model-build")
TRAIN_SEED, HELDOUT_SEED, TORCH_SEED = 1, 2, 3
STOP = [rtok.IM_END, rtok.ENDOFTEXT]


def config():
    return Cfg(vocab_size=rtok.VOCAB_SIZE, hidden_size=int(os.environ.get("RT_HIDDEN", 128)),
               num_hidden_layers=int(os.environ.get("RT_LAYERS", 8)), num_attention_heads=4,
               num_key_value_heads=2, head_dim=int(os.environ.get("RT_HIDDEN", 128)) // 4,
               intermediate_size=int(os.environ.get("RT_INTER", 352)), max_position_embeddings=512)


def log(*a):
    print(*a, flush=True)


def dump(path, obj, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
