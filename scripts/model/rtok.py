"""Byte-level tokenizer shared by the fixtures and the shipped model (issue 3).

One token per byte (ids 0..255, GPT-2 byte->unicode symbols) plus added tokens.
No merges: the Python side and tokenizer.json are then byte-exact by construction,
and every one of the 256 byte symbols is in the vocab (a byte-level vocab that
misses bytes makes @huggingface/tokenizers silently drop non-ASCII text).
"""
import json
import os

SPECIALS = [  # (content, special)
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<think>", False),
    ("</think>", False),
]
ENDOFTEXT, IM_START, IM_END, THINK, END_THINK = range(256, 256 + len(SPECIALS))
VOCAB_SIZE = 256 + len(SPECIALS)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_SYM = bytes_to_unicode()
_SPECIAL_IDS = {s: 256 + i for i, (s, _) in enumerate(SPECIALS)}


def encode(text):
    """Added tokens are matched first (leftmost, longest), the rest is raw UTF-8 bytes."""
    ids = []
    i = 0
    while i < len(text):
        hit = None
        if text[i] == "<":
            for s in sorted(_SPECIAL_IDS, key=len, reverse=True):
                if text.startswith(s, i):
                    hit = s
                    break
        if hit:
            ids.append(_SPECIAL_IDS[hit])
            i += len(hit)
            continue
        j = text.find("<", i + 1)
        j = len(text) if j < 0 else j
        ids.extend(text[i:j].encode("utf-8"))
        i = j
    return ids


def decode(ids, skip_special=False):
    out, buf = [], bytearray()
    for t in ids:
        if t < 256:
            buf.append(t)
            continue
        out.append(buf.decode("utf-8", errors="replace"))
        buf = bytearray()
        if not (skip_special and SPECIALS[t - 256][1]):
            out.append(SPECIALS[t - 256][0])
    out.append(buf.decode("utf-8", errors="replace"))
    return "".join(out)


def chat_template(think):
    gen = "<|im_start|>assistant\\n" + ("<think>\\n" if think else "")
    return (
        "{%- for message in messages %}"
        "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        "{%- endfor %}"
        "{%- if add_generation_prompt %}{{- '" + gen + "' }}{%- endif %}"
    )


def render_chat(messages, add_generation_prompt=True, think=False):
    s = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    if add_generation_prompt:
        s += "<|im_start|>assistant\n" + ("<think>\n" if think else "")
    return s


def prompt_ids(question, think):
    return encode(render_chat([{"role": "user", "content": question}], True, think))


def write_tokenizer(folder, think, max_len):
    os.makedirs(folder, exist_ok=True)
    added = [
        {"id": 256 + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": sp}
        for i, (s, sp) in enumerate(SPECIALS)
    ]
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": bl,
        "post_processor": bl,
        "decoder": bl,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": {BYTE_SYM[b]: b for b in range(256)},
            "merges": [],
        },
    }
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
        f.write("\n")
    cfg = {
        "add_bos_token": False,
        "add_eos_token": False,
        "added_tokens_decoder": {str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in added},
        "bos_token": "<|endoftext|>",
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "chat_template": chat_template(think),
        "clean_up_tokenization_spaces": False,
        "errors": "replace",
        "model_max_length": max_len,
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
    }
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=1)
        f.write("\n")
