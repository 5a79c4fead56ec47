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
