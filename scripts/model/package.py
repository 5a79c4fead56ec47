"""Package stage of the reasond-tiny build (issue 3).

Picks the shipped checkpoint, exports fp32 / int8 / q4 ONNX into models/reasond-tiny,
writes config, tokenizer and reference tokens, checks every file with onnxruntime-node
and measures its held-out accuracy, then writes build-report.json.
"""
import json
import os
import subprocess
import time

import torch

from common import BUILD_DIR, MODEL_DIR, ROOT, STOP, config, dump, load, log
import rtok
import tasks
from export_onnx import export, quantize_int8, quantize_q4, save
from student import Student, greedy_nocache
from train import evaluate, heldout, wording_shift

torch.set_num_threads(2)
N_REFERENCE = 20
MAX_NEW = 320


def load_model(name):
    m = Student(config())
    m.load_state_dict(torch.load(os.path.join(BUILD_DIR, name)))
    m.eval()
    return m


@torch.no_grad()
def torch_decode_speed(model, items):
    """Batch-1 greedy decode with the KV cache in PyTorch: generated tokens per second."""
    n, t0 = 0, time.time()
    for x in items:
        ids = torch.tensor([rtok.prompt_ids(x["question"], True)])
        mask = torch.ones_like(ids)
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        logits, past = model(ids, mask, pos)
        for _ in range(MAX_NEW):
            t = int(logits[0, -1].argmax())
            n += 1
            if t in STOP:
                break
            mask = torch.cat([mask, torch.ones(1, 1, dtype=torch.long)], 1)
            pos = pos[:, -1:] + 1
            logits, past = model(torch.tensor([[t]]), mask, pos, past)
    return n / (time.time() - t0)


def node_start(*args):
    return subprocess.Popen(["node", os.path.join(ROOT, "scripts", "model", "ort-greedy.mjs"), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def node_wait(p):
    out, err = p.communicate()
    if p.returncode:
        raise subprocess.CalledProcessError(p.returncode, p.args, out, err)
    line = out.strip().splitlines()[-1]
    log(line[:400])
    return json.loads(line)


def node(*args):
    return node_wait(node_start(*args))


def main():
    c = config()
    sft_rep = load(os.path.join(BUILD_DIR, "sft-report.json"))
    rw_path = os.path.join(BUILD_DIR, "reward-report.json")
    rw_rep = load(rw_path) if os.path.exists(rw_path) else None
    # Ship the reward-stage model unless it is worse on a validation set that is neither
    # training nor held-out data (the held-out set is only for reporting).
    train_q = frozenset(x["question"] for x in load(os.path.join(BUILD_DIR, "train.json")))
    held_q = frozenset(x["question"] for x in heldout())
    val, _ = tasks.make_set(4, int(os.environ.get("RT_VAL_PER_FAMILY", 100)), exclude=train_q | held_q)
    sft = load_model("sft.pt")
    choice, val_acc = "sft", {}
    if rw_rep:  # without a reward stage there is nothing to choose between
        val_acc["sft"] = evaluate(sft, val)["overall"]
        rw = load_model("reward.pt")
        val_acc["reward"] = evaluate(rw, val)["overall"]
        if val_acc["reward"] >= val_acc["sft"]:
            choice = "reward"
    model = rw if choice == "reward" else sft
    log(f"validation accuracy {val_acc}; shipping the {choice} checkpoint")
    speed_items = heldout(15)
    speeds = {"sft": torch_decode_speed(sft, speed_items)}
    if rw_rep:
        speeds["reward"] = torch_decode_speed(rw, speed_items)

    os.makedirs(os.path.join(MODEL_DIR, "onnx"), exist_ok=True)
    eos = [rtok.IM_END, rtok.ENDOFTEXT]
    dump(os.path.join(MODEL_DIR, "config.json"), {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "hidden_size": c.hidden_size, "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads, "num_key_value_heads": c.num_key_value_heads,
        "head_dim": c.head_dim, "intermediate_size": c.intermediate_size, "vocab_size": c.vocab_size,
        "max_position_embeddings": c.max_position_embeddings, "rope_theta": c.rope_theta,
        "rms_norm_eps": c.rms_norm_eps, "hidden_act": "silu", "bos_token_id": rtok.ENDOFTEXT,
        "eos_token_id": rtok.IM_END, "pad_token_id": rtok.ENDOFTEXT, "tie_word_embeddings": True,
        "torch_dtype": "float32", "use_cache": True})
    dump(os.path.join(MODEL_DIR, "generation_config.json"), {
        "bos_token_id": rtok.ENDOFTEXT, "eos_token_id": eos, "pad_token_id": rtok.ENDOFTEXT,
        "do_sample": False, "temperature": 1.0, "top_k": 1, "top_p": 1.0, "max_new_tokens": MAX_NEW})
    rtok.write_tokenizer(MODEL_DIR, think=True, max_len=c.max_position_embeddings)

    fp32 = export(model, os.path.join(MODEL_DIR, "onnx", "model.onnx"), "community")
    save(quantize_int8(fp32), os.path.join(MODEL_DIR, "onnx", "model_quantized.onnx"))
    save(quantize_q4(fp32, block=32), os.path.join(MODEL_DIR, "onnx", "model_q4.onnx"))

    per = {}
    for x in heldout():
        per.setdefault(x["family"], []).append(x)
    fams = list(per.values())
    ref_items = [fams[i % len(fams)][i // len(fams)] for i in range(N_REFERENCE)]
    cases = []
    for x in ref_items:
        msgs = [{"role": "user", "content": x["question"]}]
        text = rtok.render_chat(msgs, True, think=True)
        ids = rtok.encode(text)
        out = greedy_nocache(model, ids, MAX_NEW, stop=set(eos))
        cases.append({"id": x["id"], "messages": msgs, "prompt": text, "input_ids": ids, "output_ids": out,
                      "output_text": rtok.decode(out), "answer": x["answer"]})
    dump(os.path.join(MODEL_DIR, "reference.json"), {
        "description": "PyTorch fp32 greedy tokens (no KV cache) of the shipped checkpoint for held-out prompts, "
                       "chat template with add_generation_prompt (opens <think>), up to and including the eos token. "
                       "Made by scripts/model/package.py.",
        "max_new_tokens": MAX_NEW, "stop_at_eos": True, "eos_token_id": eos, "cases": cases})

    # the TypeScript side (tokenizers + jinja) must give the same ids as rtok, incl. multi-byte UTF-8
    tok_cases = []
    for t in ["Grüße — 東京 🙂", heldout()[0]["question"], "<think>\nx</think>\n\ny<|im_end|>", "Tab\t\r\n 日本語 ✓ 🚀"]:
        msgs = [{"role": "user", "content": t}]
        pr = rtok.render_chat(msgs, True, think=True)
        tok_cases.append({"text": t, "ids": rtok.encode(t), "messages": msgs, "prompt": pr, "prompt_ids": rtok.encode(pr)})
    dump(os.path.join(BUILD_DIR, "tok-cases.json"), tok_cases)
    try:
        tok_check = node("tok", MODEL_DIR, os.path.join(BUILD_DIR, "tok-cases.json"))
    except subprocess.CalledProcessError as err:
        tok_check = {"tokenizer_ok": False, "output": err.stdout[-800:]}
        log(f"TOKENIZER MISMATCH: {err.stdout[-800:]}")

    ref = os.path.join(MODEL_DIR, "reference.json")
    hj = os.path.join(MODEL_DIR, "heldout.jsonl")
    ws = os.path.join(MODEL_DIR, "wording-shift.jsonl")
    # accuracy_level 0 (plain fp32 activations) as a temporary, unshipped copy: the engine issue
    # asks that the shipped accuracy_level 4 file stays within 1 point of it (issue 13/15)
    save(quantize_q4(fp32, block=32, accuracy_level=0), os.path.join(MODEL_DIR, "onnx", "model_q4_al0.onnx"))
    files = [("fp32", "onnx/model.onnx"), ("int8", "onnx/model_quantized.onnx"), ("q4", "onnx/model_q4.onnx"),
             ("q4_accuracy_level_0", "onnx/model_q4_al0.onnx")]
    # every file's checks run as parallel node processes: the build machine is shared, and the
    # evaluations are most of the package stage's time
    jobs = {}
    for name, f in files:
        jobs[name] = [("ref", node_start("ref", MODEL_DIR, f, ref)),
                      ("eval", node_start("eval", MODEL_DIR, f, hj, "", os.path.join(BUILD_DIR, f"eval-{name}.json")))]
        if os.path.exists(ws):
            jobs[name].append(("ws", node_start("eval", MODEL_DIR, f, ws, "", os.path.join(BUILD_DIR, f"eval-ws-{name}.json"))))
            if name == "q4":  # the default file, on the hand-written set with instructions it never saw appended
                wsi = os.path.join(BUILD_DIR, "wording-shift-instructions.jsonl")
                with open(wsi, "w", encoding="utf-8") as fh:
                    fh.writelines(json.dumps(x) + "\n" for x in tasks.with_heldout_instructions(wording_shift()))
                jobs[name].append(("wsi", node_start("eval", MODEL_DIR, f, wsi, "", os.path.join(BUILD_DIR, "eval-wsi-q4.json"))))
    onnx_rep = {}
    for name, f in files:
        try:
            out = {k: node_wait(p) for k, p in jobs[name]}
            r, e, w, wi = out["ref"], out["eval"], out.get("ws"), out.get("wsi")
            onnx_rep[name] = {"file": f, "bytes": e["bytes"], "reference_exact": f"{r['exact']}/{r['cases']}",
                              "heldout": {"overall": e["accuracy"], **e["per_family"]}, "n": e["n"],
                              "heldout_correct": {"overall": [e["correct"], e["n"]], **e["per_family_correct"]},
                              "heldout_refusal": e["refusal"],
                              "wording_shift": None if w is None else {"overall": w["accuracy"], **w["per_family"]},
                              "wording_shift_correct": None if w is None else {"overall": [w["correct"], w["n"]], **w["per_family_correct"]},
                              "wording_shift_refusal": None if w is None else w["refusal"],
                              **({} if wi is None else {"wording_shift_with_instructions": {
                                  "instructions": tasks.HELDOUT_INSTRUCTIONS, "overall": wi["accuracy"], **wi["per_family"],
                                  "correct": [wi["correct"], wi["n"]], "refusal": wi["refusal"]}}),
                              "decode_tokens_per_s_batch1_incl_prefill": e["tokens_per_s_incl_prefill"]}
        except subprocess.CalledProcessError as err:  # e.g. an onnxruntime without MatMulNBits
            log(f"{name}: onnxruntime-node failed: {err.stderr[-800:]}")
            onnx_rep[name] = {"file": f, "error": err.stderr[-800:]}
    os.remove(os.path.join(MODEL_DIR, "onnx", "model_q4_al0.onnx"))
    onnx_rep["q4_accuracy_level_0"]["file"] = "(not shipped) onnx/model_q4.onnx quantized with accuracy_level=0"
    if "error" in onnx_rep["q4"]:
        os.remove(os.path.join(MODEL_DIR, "onnx", "model_q4.onnx"))

    data_rep = load(os.path.join(BUILD_DIR, "data-report.json"))
    ws_items = wording_shift()
    ws_torch = {"sft": evaluate(sft, ws_items) if ws_items else None}
    if rw_rep:
        ws_torch["reward"] = evaluate(rw, ws_items) if ws_items else None
    stage = lambda rep, sp, wsr: None if rep is None else {
        "heldout_pytorch_greedy": rep["heldout"], "wording_shift_pytorch_greedy": wsr, "train_steps": rep["steps"], "train_seconds": round(rep["seconds"]),
        "train_tokens": rep["tokens"], "train_tokens_per_s": round(rep["tokens_per_s"]),
        "eval_history": rep["eval_history"], "decode_tokens_per_s_pytorch_batch1": round(sp),
        "state_dict_bytes_fp32": 4 * model.n_params(),
        **{k: rep[k] for k in ("questions", "k", "temperature", "samples", "kept_traces",
                               "sample_pass_rate_any", "sampling_seconds") if k in rep}}
    report = {
        "model": "reasond-tiny", "params": model.n_params(), "config": c.to_dict(),
        "data": data_rep,
        "sft": stage(sft_rep, speeds["sft"], ws_torch["sft"]),
        "reward": stage(rw_rep, speeds.get("reward", 0), ws_torch.get("reward")),
        "reward_minus_sft_heldout_overall": None if rw_rep is None else
        rw_rep["heldout"]["overall"] - sft_rep["heldout"]["overall"],
        "validation_accuracy_for_choice": val_acc, "shipped_checkpoint": choice,
        "onnx": onnx_rep,
        "tokenizer_check_node": tok_check,
        "measured_on": "2-core x86_64 build machine, torch 1.13 (OpenBLAS), onnxruntime-node 1.30, 1 intra-op thread",
    }
    dump(os.path.join(MODEL_DIR, "build-report.json"), report)
    log("report written: " + json.dumps({k: v.get("heldout") for k, v in onnx_rep.items()}))


if __name__ == "__main__":
    main()
