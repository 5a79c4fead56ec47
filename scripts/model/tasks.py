"""Task families, the programmatic teacher and the data sets (issues 3 and 15).

Every generator returns (question, trace, answer). The trace is what the student writes
between <think> and </think>. Each family is a grammar with many wordings (fam_*.py); the first
trace line(s) restate the question in one canonical form, the rest computes digit by digit.
Canonical answer formats (exact match is the reward and the eval metric):
  arithmetic  a non-negative integer, digits only               "103"
  time        a duration "H h M min" (always both parts)        "1 h 35 min"
              or a clock time "H:MM" (24 h, no leading zero)     "15:35"
  logic       a name as written in the question, or yes / no    "Alice"
  site        see fam_site.py: a reading, a count, a difference, a time or "never",
              a sensor name, a mean with one decimal (half up)   "22.4"
  ood         the fixed word "unsupported"
"""
import random

from fam_arith import arithmetic
from fam_logic import logic
from fam_ood import UNSUPPORTED, ood
from fam_site import site
from fam_story import STORIES
from fam_time import time_family

FAMILIES = {"arithmetic": arithmetic, "time": time_family, "logic": logic, "site": site, "ood": ood}
# share of each family in the training set: the families that need more digit work get more
TRAIN_SHARE = {"arithmetic": 0.27, "time": 0.21, "logic": 0.17, "site": 0.25, "ood": 0.10}


def completion(trace, answer):
    """What the student generates after the template's '<think>\\n'."""
    return f"{trace}\n</think>\n\n{answer}<|im_end|>"


def extract_answer(text):
    i = text.rfind("</think>")
    a = text[i + len("</think>"):] if i >= 0 else text
    return a.replace("<|im_end|>", "").replace("<|endoftext|>", "").strip()


# Instructions people put around a question ("What is 17 * 23? Think step by step.", "Q: 2+2?"); they
# change nothing about the task, and out-of-domain prompts carry them too, so they are no cue either way.
# Three phrasings are kept out on purpose ("Answer with just the number.", "Explain your reasoning.",
# "Please be brief."): docs/models.md measures the model on them to see whether it learnt to ignore
# instructions or only these.
INSTRUCTIONS = ["Think step by step.", "Let's think step by step.", "Think it through step by step.",
                "Show your work.", "Show the steps.", "Show each step.", "Answer briefly.", "Please answer.",
                "Just the answer, please.", "Give only the final answer.", "Be precise.", "Reason carefully.",
                "Take your time.", "Double-check your answer.", "Keep it short.", "Answer in one word if you can.",
                "Work it out carefully.", "Only give the result.", "Explain briefly.", "Thanks!", "Thank you.",
                "I need this for a report.", "Reply with the answer only.", "Go step by step.", "Be careful."]
PREFIXES = ["Q: ", "Question: ", "Quick one: ", "Please help: ", "Hi! ", "Task: ", "Solve this: ", "Hey, ",
            "Can you help? ", "Problem: ", "Here is a question. "]


# Prefixes with capitalised words and greetings (the eighth and ninth models read "Quick" as a name
# after an unseen prefix): used on the wider questions only (make_stories). The four phrasings of
# the docs/models.md probe ("Hello, can you tell me: ", "Quick check - ", "I have a question. ",
# "Help me with this: ") stay out, so that probe still measures prefixes the model never saw.
WIDE_PREFIXES = PREFIXES + ["Puzzle: ", "Quiz Time! ", "Good Morning. ", "Dear Assistant, ", "Test Question: ",
                            "Homework Help - ", "One More: ", "Hello there. ", "Exercise 4. ", "Logic Check: ",
                            "Math Problem - ", "From The Site Log: ", "Next One, Please: ", "Hi Team! ", "Warm-up: "]


def with_instructions(items, seed, share=0.08, prefixes=PREFIXES):
    """A share of the questions get an instruction appended or a prefix put before them (training data
    only: the held-out set and its exclusion are made from the plain questions, so they do not
    change). Its own RNG, so the questions themselves are drawn as before."""
    rng = random.Random(seed)
    out = []
    for x in items:
        if rng.random() < share:
            q = x["question"].strip()
            if rng.random() < 0.75:
                q = q + rng.choice([" ", " ", "\n"]) + rng.choice(INSTRUCTIONS)
            else:
                q = rng.choice(prefixes) + q
            x = {**x, "question": q}
        out.append(x)
    return out


# The phrasings kept out of training (above): the build measures the shipped file on the hand-written
# set with one of them appended to each question (package.py, "wording_shift_with_instructions").
HELDOUT_INSTRUCTIONS = ["Answer with just the number.", "Explain your reasoning.", "Please be brief."]


def with_heldout_instructions(items):
    """Each question with one held-out instruction appended, in turn (deterministic)."""
    return [{**x, "id": x["id"] + "-i", "question": x["question"].strip() + " " + HELDOUT_INSTRUCTIONS[i % 3]}
            for i, x in enumerate(items)]


def make_stories(seed, n_per_family, exclude=frozenset()):
    """The wider grammar (fam_story.py) from its own seed, for training only: questions also in
    `exclude` (the held-out set) are left out; a quarter carry an instruction or a prefix, out-of-domain
    prompts included (n_per_family["ood"] of them, from the usual grammar)."""
    rng = random.Random(seed)
    out, seen = [], set()
    for fam, want in n_per_family.items():
        gen = STORIES.get(fam) or FAMILIES[fam]
        k, tries = 0, 0
        while k < want and tries < 50 * want:
            tries += 1
            q, tr, ans = gen(rng)
            if q in exclude or (q in seen and fam != "ood"):
                continue
            seen.add(q)
            out.append({"id": f"st-{fam[:2]}-{k:05d}", "family": fam, "question": q, "trace": tr, "answer": ans})
            k += 1
    return with_instructions(out, seed + 1, share=0.25, prefixes=WIDE_PREFIXES)


def make_set(seed, n_per_family, exclude=frozenset(), families=None):
    """Unique questions per family; `exclude` are questions that must not appear (the training set).
    n_per_family: an int for every family, or a dict family -> count. A family whose grammar runs
    out of new questions (chit-chat has few) stops after 20 misses in a row for each one kept."""
    rng = random.Random(seed)
    out, seen, dropped = [], set(), 0
    fams = families or list(FAMILIES)
    for fam in fams:
        gen = FAMILIES[fam]
        want = n_per_family[fam] if isinstance(n_per_family, dict) else n_per_family
        k, misses = 0, 0
        while k < want and misses < 20 * max(1, k) + 1000:
            q, tr, ans = gen(rng)
            if q in seen:
                misses += 1
                continue
            if q in exclude:
                dropped += 1
                misses += 1
                continue
            seen.add(q)
            out.append({"id": f"{fam[:2]}-{k:05d}", "family": fam, "question": q, "trace": tr, "answer": ans})
            k += 1
    return out, dropped


if __name__ == "__main__":
    r = random.Random(0)
    for fam, gen in FAMILIES.items():
        for _ in range(4):
            q, tr, a = gen(r)
            print(f"[{fam}] {q}\n{tr}\n=> {a}\n")
