"""Task families and the programmatic teacher (issue 3).

Every generator returns (question, trace, answer). The trace is what the student writes
between <think> and </think>; it is short and computes digits in the order they are used.
Canonical answer formats (exact match is the reward and the eval metric):
  arithmetic  an integer, digits only                          "103"
  time        a duration "H h M min" (always both parts)       "1 h 35 min"
              or a clock time "H:MM" (24 h, no leading zero)    "15:35"
  logic       a name ("Ann") or "yes" / "no"
"""
import random

NAMES = ["Ann", "Ben", "Cal", "Dan", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jon", "Kim", "Lea", "Max", "Ned", "Oli", "Pam"]
PRONOUN = {n: ("she" if n in {"Ann", "Eve", "Fay", "Ivy", "Kim", "Lea", "Pam"} else "he") for n in NAMES}
ITEMS = ["apples", "stamps", "cards", "marbles", "coins", "books", "shells", "pens"]


# ---------------------------------------------------------------- arithmetic
def ones_first(a, op, b):
    """The digits of a ± b as column arithmetic computes them, ones first, in brackets, then the number:
    "147+61=[802]=208", "481-396=[580]=85". Written most-significant first, each digit of a sum depends
    on every carry to its right; ones first, each depends only on its own column and the digit just
    written (the first build, with "147+61=208", got 81% on arithmetic, nearly all carry/borrow errors).
    A difference keeps as many digits as a has, so the student never has to foresee leading zeros."""
    r = a + b if op == "+" else a - b
    digits = str(r) if op == "+" else str(r).zfill(len(str(a)))
    return f"[{digits[::-1]}]={r}", r


def add_sub(a, op, b):
    tail, r = ones_first(a, op, b)
    if b < 10 and a < 10:
        return f"{a}{op}{b}={r}", r
    return f"{a}{op}{b}={tail}", r


def mul_step(a, b):
    """a one digit, b up to two digits: split b into tens and ones so each part is a table fact."""
    r = a * b
    if b < 10 or b % 10 == 0:
        return f"{a}*{b}={r}", r
    hi, lo = a * (b // 10 * 10), a * (b % 10)
    return f"{a}*{b}={hi}+{lo}={ones_first(hi, '+', lo)[0]}", r


def arith_expr(rng):
    """Two operations on small numbers, evaluated with precedence; all intermediates in 0..999."""
    while True:
        kind = rng.random()
        steps = []
        if kind < 0.45:  # a ± b ± c
            a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 99)
            o1, o2 = rng.choice("+-"), rng.choice("+-")
            r1 = a + b if o1 == "+" else a - b
            r2 = r1 + c if o2 == "+" else r1 - c
            if r1 < 0 or r2 < 0:
                continue
            q = f"{a} {o1} {b} {o2} {c}"
            steps = [add_sub(a, o1, b)[0], add_sub(r1, o2, c)[0]]
            ans = r2
        elif kind < 0.75:  # a * b ± c
            a, b, c = rng.randint(2, 9), rng.randint(2, 99), rng.randint(2, 99)
            o = rng.choice("+-")
            s1, r1 = mul_step(a, b)
            r2 = r1 + c if o == "+" else r1 - c
            if r2 < 0 or r1 > 999 or r2 > 999:
                continue
            q = f"{a} * {b} {o} {c}" if rng.random() < 0.5 else f"{b} * {a} {o} {c}"
            steps = [s1, add_sub(r1, o, c)[0]]
            ans = r2
        else:  # c ± a * b
            a, b, c = rng.randint(2, 9), rng.randint(2, 99), rng.randint(2, 999)
            o = rng.choice("+-")
            s1, r1 = mul_step(a, b)
            r2 = c + r1 if o == "+" else c - r1
            if r2 < 0 or r2 > 999 or r1 > 999:
                continue
            q = f"{c} {o} {a} * {b}" if rng.random() < 0.5 else f"{c} {o} {b} * {a}"
            steps = [s1, add_sub(c, o, r1)[0]]
            ans = r2
        lead, end = rng.choice([("What is ", "?"), ("Compute ", "."), ("Calculate ", ".")])
        return lead + q + end, "\n".join(steps), str(ans)


def arith_word(rng):
    while True:
        n = rng.choice(NAMES)
        p = PRONOUN[n]
        item = rng.choice(ITEMS)
        t = rng.randrange(5)
        if t == 0:
            a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 99)
            r1, r2 = a + b, a + b - c
            if r2 < 0:
                continue
            q = f"{n} has {a} {item}. {p.capitalize()} buys {b} more and gives away {c}. How many {item} does {n} have now?"
            steps = [add_sub(a, "+", b)[0], add_sub(r1, "-", c)[0]]
        elif t == 1:
            a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 99)
            r1, r2 = a - b, a - b + c
            if r1 < 0:
                continue
            q = f"{n} had {a} {item}, lost {b} and then found {c}. How many {item} does {n} have now?"
            steps = [add_sub(a, "-", b)[0], add_sub(r1, "+", c)[0]]
        elif t == 2:
            a, b, c = rng.randint(2, 9), rng.randint(2, 99), rng.randint(2, 99)
            s1, r1 = mul_step(a, b)
            r2 = r1 + c
            if r2 > 999:
                continue
            q = f"A box holds {a} {item}. How many {item} are in {b} boxes and {c} more loose ones?"
            steps = [s1, add_sub(r1, "+", c)[0]]
        elif t == 3:
            a, b, c = rng.randint(2, 9), rng.randint(2, 99), rng.randint(10, 999)
            s1, r1 = mul_step(a, b)
            r2 = c - r1
            if r2 < 0:
                continue
            q = f"{n} reads {a} pages a day for {b} days. The book has {c} pages. How many pages are left?"
            steps = [s1, add_sub(c, "-", r1)[0]]
        else:
            a, b, c = rng.randint(2, 9), rng.randint(2, 99), rng.randint(10, 999)
            s1, r1 = mul_step(a, b)
            r2 = c - r1
            if r2 < 0:
                continue
            q = f"A ticket costs {a} dollars. {n} buys {b} tickets and pays with {c} dollars. How much change does {p} get?"
            steps = [s1, add_sub(c, "-", r1)[0]]
        return q, "\n".join(steps), str(r2)


def arithmetic(rng):
    return arith_expr(rng) if rng.random() < 0.5 else arith_word(rng)


# ---------------------------------------------------------------- time
def hm(h, m):
    return f"{h}:{m:02d}"


def time_duration(rng):
    while True:
        h1, m1 = rng.randint(0, 20), rng.randrange(0, 60, 5) if rng.random() < 0.5 else rng.randint(0, 59)
        dur = rng.randint(5, 299)
        t2 = h1 * 60 + m1 + dur
        if t2 >= 24 * 60:
            continue
        h2, m2 = divmod(t2, 60)
        break
    tpl = rng.randrange(4)
    if tpl == 0:
        q = f"A train leaves at {hm(h1, m1)} and arrives at {hm(h2, m2)}. How long is the trip?"
    elif tpl == 1:
        q = f"A bus leaves at {hm(h1, m1)} and arrives at {hm(h2, m2)}. How long is the ride?"
    elif tpl == 2:
        q = f"A film starts at {hm(h1, m1)} and ends at {hm(h2, m2)}. How long is the film?"
    else:
        n = rng.choice(NAMES)
        q = f"{n} starts work at {hm(h1, m1)} and stops at {hm(h2, m2)}. How long does {PRONOUN[n]} work?"
    dh, dm = divmod(dur, 60)
    if m2 >= m1:
        steps = [f"{hm(h2, m2)}-{hm(h1, m1)}={hm(dh, dm)}"]
    else:  # borrow an hour first so the minute subtraction never goes negative
        steps = [f"{hm(h2, m2)}={h2 - 1}:{m2 + 60}", f"{h2 - 1}:{m2 + 60}-{hm(h1, m1)}={hm(dh, dm)}"]
    return q, "\n".join(steps), f"{dh} h {dm} min"


def time_end(rng):
    while True:
        h1, m1 = rng.randint(0, 21), rng.randrange(0, 60, 5) if rng.random() < 0.5 else rng.randint(0, 59)
        dur = rng.randint(5, 179)
        t2 = h1 * 60 + m1 + dur
        if t2 < 24 * 60:
            break
    dh, dm = divmod(dur, 60)
    ds = f"{dm} min" if dh == 0 else f"{dh} h {dm} min"
    tpl = rng.randrange(3)
    if tpl == 0:
        q = f"A meeting starts at {hm(h1, m1)} and lasts {ds}. When does it end?"
    elif tpl == 1:
        q = f"A train leaves at {hm(h1, m1)} and the trip takes {ds}. When does it arrive?"
    else:
        n = rng.choice(NAMES)
        q = f"{n} starts cooking at {hm(h1, m1)} and cooks for {ds}. When is {PRONOUN[n]} done?"
    h2, m2 = divmod(t2, 60)
    hs, ms = h1 + dh, m1 + dm
    steps = [f"{hm(h1, m1)}+{hm(dh, dm)}={hs}:{ms:02d}"]
    if ms >= 60:
        steps.append(f"{hs}:{ms}={hm(h2, m2)}")
    return q, "\n".join(steps), hm(h2, m2)


def time_family(rng):
    return time_duration(rng) if rng.random() < 0.55 else time_end(rng)


# ---------------------------------------------------------------- logic
ATTRS = [("taller", "shorter", "tallest", "shortest"), ("older", "younger", "oldest", "youngest"),
         ("faster", "slower", "fastest", "slowest"), ("heavier", "lighter", "heaviest", "lightest")]


def logic(rng):
    """Three people, two comparison facts (either direction, any order) -> chain -> question."""
    a, b, c = rng.sample(NAMES, 3)  # true order a > b > c on the attribute
    more, less, most, least = rng.choice(ATTRS)
    pairs = [(a, b), (b, c)]
    rng.shuffle(pairs)
    facts, norm = [], []
    for x, y in pairs:
        facts.append(f"{x} is {more} than {y}." if rng.random() < 0.5 else f"{y} is {less} than {x}.")
        norm.append(f"{x}>{y}")
    steps = norm + [f"{a}>{b}>{c}"]
    t = rng.randrange(3)
    if t == 0:
        q, ans = f"Who is the {most}?", a
    elif t == 1:
        q, ans = f"Who is the {least}?", c
    else:
        x, y = rng.sample([a, b, c], 2)
        word = rng.choice([more, less])
        rank = {a: 0, b: 1, c: 2}
        truth = rank[x] < rank[y] if word == more else rank[x] > rank[y]
        q, ans = f"Is {x} {word} than {y}?", "yes" if truth else "no"
        # state the asked comparison in the chain's direction, then the pair as the chain orders it:
        # the answer is whether the two lines agree (without these lines the first build answered
        # "yes" to every such question, 85% on logic)
        asked = f"{x}>{y}" if word == more else f"{y}>{x}"
        p, r = (x, y) if rank[x] < rank[y] else (y, x)
        steps += [f"{asked}?", f"{p}>{r}"]
    return " ".join(facts) + " " + q, "\n".join(steps), ans


FAMILIES = {"arithmetic": arithmetic, "time": time_family, "logic": logic}


def completion(trace, answer):
    """What the student generates after the template's '<think>\\n'."""
    return f"{trace}\n</think>\n\n{answer}<|im_end|>"


def extract_answer(text):
    i = text.rfind("</think>")
    a = text[i + len("</think>"):] if i >= 0 else text
    return a.replace("<|im_end|>", "").replace("<|endoftext|>", "").strip()


def make_set(seed, n_per_family, exclude=frozenset()):
    """Unique questions per family; `exclude` are questions that must not appear (the training set)."""
    rng = random.Random(seed)
    out, seen, dropped = [], set(), 0
    for fam, gen in FAMILIES.items():
        k = 0
        while k < n_per_family:
            q, tr, ans = gen(rng)
            if q in seen:
                continue
            if q in exclude:
                dropped += 1
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
