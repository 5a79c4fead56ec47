"""SFT on teacher traces and the reward stage (expert iteration) for reasond-tiny (issues 3, 15).

    /usr/bin/python3 scripts/model/train.py data|sft|reward|bench

SFT writes a resumable checkpoint ($REASOND_BUILD_DIR/sft-ckpt.pt: weights, optimizer, step,
elapsed training time) every RT_CKPT_MINUTES (default 4). `RT_RESUME=1 FROM=sft npm run model:build`
continues from it with the same schedule, data order and time budget (issue 15).
"""
import json
import math
import os
import random
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from common import BUILD_DIR, HELDOUT_SEED, MODEL_DIR, ROOT, STOP, TORCH_SEED, TRAIN_SEED, config, dump, load, log
import rtok
import tasks
import student
import warm_start
from student import Student, generate_batch

torch.set_num_threads(2)
E = os.environ.get
TRAIN_TOTAL = int(E("RT_TRAIN_TOTAL", 300000))
HELDOUT_PER_FAMILY = 100
MAX_SEQ = int(E("RT_MAX_SEQ", 400))  # the few longer examples (8 timestamped readings) only add padding
CKPT_MINUTES = float(E("RT_CKPT_MINUTES", 4))
SFT_STEPS = int(E("RT_SFT_STEPS", 30000))
BATCH = int(E("RT_BATCH", 16))
LR = float(E("RT_LR", 1.5e-3))
EVAL_EVERY = int(E("RT_EVAL_EVERY", 500))
RW_QUESTIONS = int(E("RT_RW_QUESTIONS", 900))
RW_K = int(E("RT_RW_K", 4))
RW_TEMP = float(E("RT_RW_TEMP", 0.8))
RW_STEPS = int(E("RT_RW_STEPS", 300))
RW_LR = float(E("RT_RW_LR", 1e-4))
MAX_NEW = 320
WARM_START_DEFAULT = "git:cc4b91a:models/reasond-tiny/onnx/model.onnx"  # the longest traces (a mean of 8 readings) are ~250 tokens
# Quantization-aware training (student.QAT) from this fraction of the schedule on; > 1 never.
# The sixth run (docs/models.md) ended with q4 1.2-1.3 points behind fp32 without it; the seventh,
# with it from 0.5, within a point.
QAT_FROM = float(E("RT_QAT_FROM", 0.5))
# Hard-token weighting: a token's loss counts 1 + HARD_WEIGHT * (1 - p)^HARD_GAMMA times, p the
# model's probability of it (not differentiated). The traces are deterministic, so almost every
# token is predicted with p ~ 1 and the few decisions (which end of a chain answers "slowest",
# whether 67 > 64) sit near p = 0.5 after hours of training yet carry a few percent of the loss
# (docs/models.md: tried, not kept).
HARD_WEIGHT = float(E("RT_HARD_WEIGHT", 0))
HARD_GAMMA = float(E("RT_HARD_GAMMA", 1))
STOP_AT = int(E("RT_STOP_AT_STEP", 0))
INSTRUCTION_SEED = TRAIN_SEED + 7  # which training questions get an instruction (tasks.with_instructions)
# The wider grammar (fam_story.py, tenth run): its own seed, added after the held-out split.
STORY_SEED = TRAIN_SEED + 11
STORY_COUNTS = {"arithmetic": 16000, "time": 8000, "logic": 8000, "site": 8000, "ood": 3000}


def token_loss(logits, y):
    ce = F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1), ignore_index=-100, reduction="none")
    keep = (y.view(-1) != -100).float()
    w = keep
    if HARD_WEIGHT > 0:
        w = keep * (1 + HARD_WEIGHT * (1 - torch.exp(-ce.detach())).pow(HARD_GAMMA))
    return (ce * w).sum() / keep.sum()


def train_counts():
    return {f: round(TRAIN_TOTAL * s) for f, s in tasks.TRAIN_SHARE.items()}


def encode_example(q, comp):
    p = rtok.prompt_ids(q, think=True)
    c = rtok.encode(comp)
    return p, c


def cmd_data():
    train, _ = tasks.make_set(TRAIN_SEED, train_counts())
    train_q = frozenset(x["question"] for x in train)
    held, dropped = tasks.make_set(HELDOUT_SEED, HELDOUT_PER_FAMILY, exclude=train_q)
    overlap = sum(1 for x in held if x["question"] in train_q)
    assert overlap == 0, overlap
    # reward-stage questions: fresh, never in SFT data nor held out
    rw, _ = tasks.make_set(TRAIN_SEED + 100, RW_QUESTIONS // len(tasks.FAMILIES) + 1,
                           exclude=train_q | frozenset(x["question"] for x in held))
    train = tasks.with_instructions(train, INSTRUCTION_SEED)  # after the held-out split: it is made from the plain questions
    train += tasks.make_stories(STORY_SEED, STORY_COUNTS, exclude=frozenset(x["question"] for x in held))
    os.makedirs(BUILD_DIR, exist_ok=True)
    dump(os.path.join(BUILD_DIR, "train.json"), train, indent=None)
    dump(os.path.join(BUILD_DIR, "rw.json"), rw, indent=None)
    os.makedirs(MODEL_DIR, exist_ok=True)
    with open(os.path.join(MODEL_DIR, "heldout.jsonl"), "w", encoding="utf-8") as f:
        for x in held:
            f.write(json.dumps({k: x[k] for k in ("id", "family", "question", "answer")}, ensure_ascii=False) + "\n")
    lens = [len(rtok.prompt_ids(x["question"], True)) + len(rtok.encode(tasks.completion(x["trace"], x["answer"])))
            for x in train[:3000]]
    dump(os.path.join(BUILD_DIR, "data-report.json"), {
        "train_questions": len(train), "story_questions": sum(STORY_COUNTS.values()), "train_per_family": {f: sum(x["family"] == f for x in train) for f in tasks.FAMILIES},
        "heldout_questions": len(held), "reward_questions": len(rw),
        "heldout_candidates_dropped_as_in_train": dropped, "train_heldout_overlap": overlap,
        "train_seed": TRAIN_SEED, "heldout_seed": HELDOUT_SEED, "mean_seq_tokens": sum(lens) / len(lens)})
    log(f"data: train {len(train)} heldout {len(held)} (dropped {dropped} seen in train, overlap {overlap}) "
        f"reward {len(rw)} mean seq {sum(lens) / len(lens):.1f}")


def batches(examples, batch, rng, pool=None):
    """examples: list of (prompt_ids, completion_ids). Shuffled, then within each pool of `pool`
    batches sorted by length and cut into batches whose order is shuffled again: padding to the
    longest in a batch wasted ~45% of the compute with five families of very different lengths
    (issue 15). A pool of 8 batches keeps families mixed; a first build that sorted the whole set
    by length made each batch ~one family and learned far slower (23% at step 1500, issue 3)."""
    pool = int(E("RT_BUCKET_POOL", 8)) if pool is None else pool
    idx = list(range(len(examples)))
    size = lambda j: len(examples[j][0]) + len(examples[j][1])
    while True:
        rng.shuffle(idx)
        for i in range(0, len(idx) - batch * pool + 1, batch * pool):
            chunk = sorted(idx[i:i + batch * pool], key=size) if pool > 1 else idx[i:i + batch * pool]
            group = [chunk[k:k + batch] for k in range(0, len(chunk), batch)]
            rng.shuffle(group)
            for b in group:
                yield [examples[j] for j in b]


def collate(exs):
    L = max(len(p) + len(c) for p, c in exs)
    x = torch.full((len(exs), L), rtok.ENDOFTEXT, dtype=torch.long)
    y = torch.full((len(exs), L), -100, dtype=torch.long)
    for i, (p, c) in enumerate(exs):
        s = p + c
        x[i, :len(s)] = torch.tensor(s)
        # predict completion tokens only (the prompt is given at inference)
        y[i, len(p) - 1:len(s) - 1] = torch.tensor(c)
    return x, y


def evaluate(model, items, bs=100):
    model.eval()
    fam, ok, ntok = {}, 0, 0
    for i in range(0, len(items), bs):
        chunk = items[i:i + bs]
        outs = generate_batch(model, [rtok.prompt_ids(x["question"], True) for x in chunk], MAX_NEW, STOP)
        for x, o in zip(chunk, outs):
            ntok += len(o)
            g = tasks.extract_answer(rtok.decode(o)) == x["answer"]
            ok += g
            f = fam.setdefault(x["family"], [0, 0])
            f[0] += g
            f[1] += 1
    model.train()
    return {"overall": ok / len(items), **{k: a / n for k, (a, n) in fam.items()},
            "mean_generated_tokens": ntok / len(items)}


def heldout(n=None):
    items = [json.loads(l) for l in open(os.path.join(MODEL_DIR, "heldout.jsonl"), encoding="utf-8")]
    if n:  # a fixed slice with every family
        per = {}
        for x in items:
            per.setdefault(x["family"], []).append(x)
        items = [x for v in per.values() for x in v[:n // len(per)]]
    return items


def wording_shift():
    """The hand-written wording-shift set (issue 15): only ever evaluated, never trained on."""
    p = os.path.join(MODEL_DIR, "wording-shift.jsonl")
    return [json.loads(l) for l in open(p, encoding="utf-8")] if os.path.exists(p) else []


def train_loop(model, examples, steps, lr, seed, tag, eval_items, warmup=150, min_frac=0.1, max_seconds=None, ckpt=None,
               qat_from=2.0):
    """Cosine schedule over `steps`, or over `max_seconds` of training time if that comes first:
    the build machine is shared, so the schedule must anneal by the time budget (issue 3).
    `ckpt`: a path; the state is saved there every CKPT_MINUTES and, if it exists with RT_RESUME=1,
    training continues from it (same data order, schedule position and elapsed time; issue 15).
    `qat_from`: the schedule fraction from which the model trains quantization-aware (student.QAT);
    the evaluations from then on measure the quantized computation, and it is off again on return."""
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    it = batches(examples, BATCH, rng)
    start, spent, toks, hist = 1, 0.0, 0, []
    if ckpt and E("RT_RESUME") == "1" and os.path.exists(ckpt):
        st = torch.load(ckpt)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        start, spent, toks, hist = st["step"] + 1, st["seconds"], st["tokens"], st["hist"]
        for _ in range(st["step"]):  # replay the data order up to where it stopped
            next(it)
        log(f"[{tag}] resumed at step {start} after {spent / 60:.1f} min of training")
    model.train()
    t0 = time.time() - spent
    last_save = time.time()

    def save_ckpt(step):
        if ckpt:
            tmp = ckpt + ".tmp"
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "seconds": time.time() - t0,
                        "tokens": toks, "hist": hist}, tmp)
            os.replace(tmp, ckpt)

    step = start - 1
    for step in range(start, steps + 1):
        prog = (step - warmup) / max(1, steps - warmup)
        if max_seconds:
            prog = max(prog, (time.time() - t0) / max_seconds)
        if prog >= 1:
            step -= 1
            break
        if STOP_AT and step > STOP_AT:  # a probe run of a fixed length (docs/models.md)
            step -= 1
            break
        if prog >= qat_from and not student.QAT["on"]:
            student.QAT["on"] = True
            log(f"[{tag}] step {step}: quantization-aware training on (q4 weights, int8 activations)")
        f = step / warmup if step < warmup else min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * max(0.0, prog)))
        for gr in opt.param_groups:
            gr["lr"] = lr * f
        x, y = collate(next(it))
        logits = model.train_logits(x)
        loss = token_loss(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        toks += x.numel()
        if step % 50 == 0:
            el = time.time() - t0
            log(f"[{tag}] step {step}/{steps} loss {loss.item():.4f} lr {lr * f:.2e} tok/s {toks / el:.0f} elapsed {el / 60:.1f} min")
        if eval_items and step % EVAL_EVERY == 0:
            r = evaluate(model, eval_items)
            r["step"] = step
            hist.append(r)
            log(f"[{tag}] eval step {step}: " + " ".join(f"{k}={v:.3f}" for k, v in r.items() if k != "step"))
        if time.time() - last_save > CKPT_MINUTES * 60:
            save_ckpt(step)
            last_save = time.time()
    steps = step
    save_ckpt(steps)
    if eval_items:
        r = evaluate(model, eval_items)
        r["step"] = steps
        hist.append(r)
        log(f"[{tag}] final eval step {steps}: " + " ".join(f"{k}={v:.3f}" for k, v in r.items() if k != "step"))
    student.QAT["on"] = False
    el = time.time() - t0
    return {"steps": steps, "seconds": el, "tokens": toks, "tokens_per_s": toks / el, "eval_history": hist}


def cmd_sft():
    c = config()
    torch.manual_seed(TORCH_SEED)
    model = Student(c)
    model.init_weights(torch.Generator().manual_seed(TORCH_SEED))
    init = E("RT_SFT_INIT")  # continue from a checkpoint (fresh optimizer), e.g. after an interrupted run
    if init:
        model.load_state_dict(torch.load(init))
    # warm start from the issue-3 model in git history (see warm_start.py); RT_SFT_INIT_ONNX= for a cold start
    onnx_init = E("RT_SFT_INIT_ONNX", WARM_START_DEFAULT)
    if onnx_init and not init:
        path = onnx_init
        if onnx_init.startswith("git:"):
            path = os.path.join(BUILD_DIR, "warm-start.onnx")
            with open(path, "wb") as f:
                f.write(subprocess.run(["git", "show", onnx_init[4:]], cwd=ROOT, check=True, capture_output=True).stdout)
        n_old = warm_start.load_onnx_weights(model, path)
        init = f"{onnx_init} ({n_old} layers; {c.num_hidden_layers - n_old} identity layers appended)"
    log(f"params {model.n_params()} config {c.to_dict()} init {init}")
    train = load(os.path.join(BUILD_DIR, "train.json"))
    ex = [encode_example(x["question"], tasks.completion(x["trace"], x["answer"])) for x in train]
    ex = [e for e in ex if len(e[0]) + len(e[1]) <= MAX_SEQ]
    log(f"{len(ex)} of {len(train)} examples within {MAX_SEQ} tokens")
    budget = float(E("RT_SFT_MAX_MINUTES", 75)) * 60
    rep = train_loop(model, ex, SFT_STEPS, LR, int(E("RT_SFT_DATA_SEED", TORCH_SEED)), "sft", heldout(100),
                     warmup=int(E("RT_WARMUP", 100)), min_frac=0.05, max_seconds=budget,
                     ckpt=os.path.join(BUILD_DIR, "sft-ckpt.pt"), qat_from=QAT_FROM)
    rep["init"] = init
    rep["quantization_aware_from"] = QAT_FROM if QAT_FROM <= 1 else None
    rep["hard_token_weight"] = [HARD_WEIGHT, HARD_GAMMA] if HARD_WEIGHT > 0 else None
    rep["steps_before_init"] = int(E("RT_SFT_INIT_STEPS", 0))
    torch.save(model.state_dict(), os.path.join(BUILD_DIR, "sft.pt"))
    t = time.time()
    # the package stage measures the exported fp32 file on the whole set; this PyTorch pass only
    # repeats it (RT_SFT_FULL_EVAL=0 saves its minutes on a busy machine)
    rep["heldout"] = evaluate(model, heldout()) if E("RT_SFT_FULL_EVAL", "1") == "1" else None
    rep["heldout_eval_seconds"] = time.time() - t
    rep["params"] = model.n_params()
    log(f"sft heldout: {rep['heldout']}")
    dump(os.path.join(BUILD_DIR, "sft-report.json"), rep)


def cmd_reward():
    """Expert iteration: sample k traces per fresh question, keep exact-answer ones, fine-tune on them."""
    c = config()
    model = Student(c)
    model.load_state_dict(torch.load(os.path.join(BUILD_DIR, "sft.pt")))
    allq, per = load(os.path.join(BUILD_DIR, "rw.json")), {}
    for x in allq:
        per.setdefault(x["family"], []).append(x)
    rw = [x for v in per.values() for x in v[:RW_QUESTIONS // len(per)]]  # equal share per family
    gen = torch.Generator().manual_seed(TORCH_SEED + 1)
    model.eval()
    t0 = time.time()
    kept, seen, n_samples, solved = [], set(), 0, 0
    for i in range(0, len(rw), 100):
        chunk = rw[i:i + 100]
        prompts = [rtok.prompt_ids(x["question"], True) for x in chunk]
        ok_q = [False] * len(chunk)
        for _ in range(RW_K):
            outs = generate_batch(model, prompts, MAX_NEW, STOP, temperature=RW_TEMP, gen=gen)
            for j, (x, o) in enumerate(zip(chunk, outs)):
                n_samples += 1
                # reward = exact final answer and a properly closed completion
                if o and o[-1] == rtok.IM_END and tasks.extract_answer(rtok.decode(o)) == x["answer"]:
                    ok_q[j] = True
                    key = (x["question"], tuple(o))
                    if key not in seen:
                        seen.add(key)
                        kept.append((prompts[j], o))
        solved += sum(ok_q)
        log(f"[reward] sampled {i + len(chunk)}/{len(rw)} questions, kept {len(kept)} traces")
    sample_s = time.time() - t0
    # mix with teacher traces so the stage sharpens rather than drifts
    train = load(os.path.join(BUILD_DIR, "train.json"))
    rng = random.Random(TORCH_SEED + 2)
    teacher = [encode_example(x["question"], tasks.completion(x["trace"], x["answer"])) for x in rng.sample(train, len(kept))]
    # an SFT checkpoint that ended quantization-aware is fine-tuned so throughout
    rep = train_loop(model, kept + teacher, RW_STEPS, RW_LR, TORCH_SEED + 3, "reward", heldout(60), warmup=50, min_frac=0.0,
                     qat_from=0.0 if QAT_FROM <= 1 else 2.0,
                     max_seconds=float(E("RT_RW_MAX_MINUTES", 10)) * 60)
    torch.save(model.state_dict(), os.path.join(BUILD_DIR, "reward.pt"))
    rep.update({"questions": len(rw), "k": RW_K, "temperature": RW_TEMP, "samples": n_samples,
                "kept_traces": len(kept), "sample_pass_rate_any": solved / len(rw), "sampling_seconds": sample_s})
    rep["heldout"] = evaluate(model, heldout())
    log(f"reward heldout: {rep['heldout']}")
    dump(os.path.join(BUILD_DIR, "reward-report.json"), rep)


def cmd_bench():
    c = config()
    model = Student(c)
    model.init_weights(torch.Generator().manual_seed(0))
    train = tasks.make_set(5, 2000)[0]
    ex = [encode_example(x["question"], tasks.completion(x["trace"], x["answer"])) for x in train]
    rep = train_loop(model, ex, int(E("RT_BENCH_STEPS", 40)), LR, 0, "bench", None)
    log(f"params {model.n_params()} tok/s {rep['tokens_per_s']:.0f} s/step {rep['seconds'] / rep['steps']:.3f}")


if __name__ == "__main__":
    {"data": cmd_data, "sft": cmd_sft, "reward": cmd_reward, "bench": cmd_bench}[sys.argv[1]]()
