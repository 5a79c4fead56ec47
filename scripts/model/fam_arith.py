"""Arithmetic family (issue 3, rewritten as a grammar for issue 15).

Every question, however it is worded, is first restated in the trace as one canonical
expression ("(12+7)*3": digits, + - * and parentheses, no spaces); the rest of the trace
evaluates it one binary operation per line, writing the rewritten expression after each
step while operations remain. Sums and differences are column arithmetic, ones first
("147+61=[802]=208", see ones_first); products add place-value parts ("17*23=200+30+140+21").
Answers are non-negative integers, digits only.
"""
import words

ITEMS = ["apples", "stamps", "cards", "marbles", "coins", "books", "shells", "pens", "stickers", "eggs",
         "bolts", "cups", "plants", "boxes", "bottles", "tickets", "pencils", "beads", "nails", "parcels"]
GAIN = ["buys {b} more", "finds {b} more", "gets {b} more", "is given {b}", "receives {b} more", "collects {b} more",
        "wins {b}", "picks up {b} more", "adds {b}"]
LOSS = ["gives away {b}", "loses {b}", "sells {b}", "uses {b}", "gives {b} to a friend", "breaks {b}",
        "drops {b}", "hands out {b}", "eats {b}"]


def ones_first(a, op, b):
    """Digits of a ± b as column arithmetic computes them, ones first, in brackets, then the number.
    A difference keeps as many digits as a has, so no leading zero has to be foreseen (issue 3)."""
    r = a + b if op == "+" else a - b
    digits = str(r) if op == "+" else str(r).zfill(len(str(a)))
    return f"[{digits[::-1]}]={r}"


def add_sub(a, op, b):
    r = a + b if op == "+" else a - b
    if a < 10 and b < 10:
        return [f"{a}{op}{b}={r}"], r
    return [f"{a}{op}{b}={ones_first(a, op, b)}"], r


def parts(n):
    s = str(n)
    return [int(d) * 10 ** (len(s) - 1 - i) for i, d in enumerate(s) if d != "0"] or [0]


def mul(a, b):
    """a*b as the sum of its place-value partial products; each part is a table fact with zeros."""
    r = a * b
    ps = [x * y for x in parts(a) for y in parts(b)]
    if len(ps) == 1:
        return [f"{a}*{b}={r}"], r
    if len(ps) == 2:
        return [f"{a}*{b}={ps[0]}+{ps[1]}={ones_first(ps[0], '+', ps[1])}"], r
    lines, acc = [f"{a}*{b}=" + "+".join(map(str, ps))], ps[0]
    for p in ps[1:]:
        lines += add_sub(acc, "+", p)[0]
        acc += p
    return lines, r


def op_lines(a, op, b):
    return mul(a, b) if op == "*" else add_sub(a, op, b)


# expression trees: ("n", v) or (op, left, right, paren)
def num(v):
    return ("n", v)


def value(e):
    if e[0] == "n":
        return e[1]
    a, b = value(e[1]), value(e[2])
    return a + b if e[0] == "+" else a - b if e[0] == "-" else a * b


def canon(e, top=True):
    if e[0] == "n":
        return str(e[1])
    s = canon(e[1], False) + e[0] + canon(e[2], False)
    return f"({s})" if e[3] else s


def ok_tree(e):
    """All intermediates 0..9999; a product has at most 4 partial products."""
    if e[0] == "n":
        return True
    if not (ok_tree(e[1]) and ok_tree(e[2])):
        return False
    a, b, v = value(e[1]), value(e[2]), value(e)
    if v < 0 or v > 9999:
        return False
    if e[0] == "*" and len(parts(a)) * len(parts(b)) > 4:
        return False
    return True


def next_op(e):
    """The operation evaluated next: innermost parenthesis first, then * before + -, left to right."""
    # flatten the top-level chain of + - or * and find the first reducible node in evaluation order
    def find(x):
        if x[0] == "n":
            return None
        for sub in (x[1], x[2]):
            if sub[0] != "n" and sub[3]:  # a parenthesised group is evaluated first
                return find(sub)
        if x[0] in "+-":
            for sub in (x[1], x[2]):
                if sub[0] == "*":
                    return find(sub)
        if x[1][0] != "n":
            return find(x[1])
        if x[2][0] != "n":
            return find(x[2])
        return x
    return find(e)


def replace(e, target, v):
    if e is target:
        return num(v)
    if e[0] == "n":
        return e
    return (e[0], replace(e[1], target, v), replace(e[2], target, v), e[3])


def evaluate_trace(e):
    lines = [canon(e)]
    while e[0] != "n":
        t = next_op(e)
        ls, r = op_lines(t[1][1], t[0], t[2][1])
        lines += ls
        e = replace(e, t, r)
        if e[0] != "n" and e[0] != "n" and (e[1][0] != "n" or e[2][0] != "n"):
            lines.append(canon(e))
    return lines, value_of(e)


def value_of(e):
    return e[1]


# ------------------------------------------------------------ expressions
def operand(rng, big=True):
    r = rng.random()
    if r < 0.35:
        return rng.randint(0 if rng.random() < 0.05 else 1, 9)
    if r < 0.8 or not big:
        return rng.randint(10, 99)
    return rng.randint(100, 999) if rng.random() < 0.85 else rng.randint(1000, 4000)


def random_tree(rng):
    shape = rng.choices(["ab", "abc", "(ab)c", "a(bc)", "abcd", "(ab)(cd)"], [24, 36, 14, 10, 10, 6])[0]
    o = lambda: rng.choices("+-*", [4, 3, 3])[0]
    n = lambda: num(operand(rng))
    if shape == "ab":
        return (o(), n(), n(), False)
    if shape == "abc":
        o1, o2 = o(), o()
        a, b, c = n(), n(), n()
        if o2 == "*" and o1 != "*":
            return (o1, a, ("*", b, c, False), False)
        return (o2, (o1, a, b, False), c, False)
    if shape == "(ab)c":
        return (rng.choice("*+-*"), (rng.choice("+-"), n(), n(), True), n(), False)
    if shape == "a(bc)":
        return (rng.choice("*+-"), n(), (rng.choice("+-"), n(), n(), True), False)
    if shape == "abcd":
        ops = [rng.choice("+-") for _ in range(3)]
        if rng.random() < 0.4:
            ops[rng.randrange(3)] = "*"
        a, b, c, d = n(), n(), n(), n()
        # build with precedence: at most one '*'
        terms, tops = [a], []
        for op, x in zip(ops, [b, c, d]):
            if op == "*":
                terms[-1] = ("*", terms[-1], x, False)
            else:
                terms.append(x)
                tops.append(op)
        e = terms[0]
        for op, x in zip(tops, terms[1:]):
            e = (op, e, x, False)
        return e
    return (rng.choice("*+"), (rng.choice("+-"), n(), n(), True), (rng.choice("+-"), n(), n(), True), False)


SYM = {"+": ["+", "+", "+", " plus ", " + ", " + "], "-": ["-", " - ", " - ", " minus ", " − ", " - "],
       "*": ["*", " * ", " * ", " times ", " × ", " x ", "×", " multiplied by ", " * "]}


def render(rng, e, style):
    """Write an expression tree in words and symbols; spacing and operator words vary per question."""
    if e[0] == "n":
        return str(e[1])
    s = render(rng, e[1], style) + (rng.choice(SYM[e[0]]) if style == "mix" else style[e[0]]) + render(rng, e[2], style)
    if e[3]:
        return rng.choice(["(", "( "])[:1] + s + ")" if rng.random() < 0.9 else "( " + s + " )"
    return s


def two_op_phrase(rng, e):
    """Phrases for a single operation: "the sum of 4 and 9", "5 subtracted from 12", "twice 14"."""
    op, a, b = e[0], e[1][1], e[2][1]
    if op == "+":
        return rng.choice([f"the sum of {a} and {b}", f"{b} added to {a}", f"{a} added to {b}", f"{a} and {b} together",
                           f"{b} more than {a}", f"{a} increased by {b}", f"add {a} and {b}"])
    if op == "-":
        return rng.choice([f"the difference between {a} and {b}", f"{b} subtracted from {a}", f"{a} take away {b}",
                           f"{a} less {b}", f"{a} decreased by {b}", f"{b} less than {a}", f"subtract {b} from {a}"])
    extra = [f"twice {b}" if a == 2 else f"double {b}" if a == 2 else None, f"triple {b}" if a == 3 else None]
    return rng.choice([f"the product of {a} and {b}", f"{a} multiplied by {b}", f"{a} groups of {b}",
                       f"multiply {a} by {b}"] + [x for x in extra if x])


def arith_expr(rng):
    while True:
        e = random_tree(rng)
        if ok_tree(e):
            break
    if e[1][0] == "n" and e[2][0] == "n" and rng.random() < 0.3:
        body = two_op_phrase(rng, e)
    else:
        style = "mix" if rng.random() < 0.6 else rng.choice([{"+": "+", "-": "-", "*": "*"}, {"+": " + ", "-": " - ", "*": " * "},
                                                              {"+": " plus ", "-": " minus ", "*": " times "},
                                                              {"+": " + ", "-": " - ", "*": " × "}])
        body = render(rng, e, style)
    tpl = rng.choice(["What is {e}?", "What is {e}?", "What's {e}?", "Compute {e}.", "Calculate {e}.", "Evaluate {e}.",
                      "{e} = ?", "{e}=?", "{e}?", "{e}", "Work out {e}.", "Find {e}.", "How much is {e}?", "Solve {e}.",
                      "What is the value of {e}?", "What do you get for {e}?", "{e} equals what?", "Please compute {e}.",
                      "Can you calculate {e}?", "Quick: {e}?", "What does {e} come to?", "Find the value of {e}.",
                      "{e} is how much?", "Tell me {e}.", "what is {e}", "Result of {e}?"])
    q = words.vary_case(rng, words.cap(tpl.format(e=body)))
    lines, v = evaluate_trace(e)
    return q, "\n".join(lines), str(v)


# ------------------------------------------------------------ word problems
def _events(rng, n, item, start):
    """Gains and losses after a starting amount; returns (sentence parts, tree)."""
    e, parts_, cur = num(start), [], start
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.55 or cur < 3:
            b = operand(rng, big=False)
            parts_.append(rng.choice(GAIN).format(b=b))
            e, cur = ("+", e, num(b), False), cur + b
        else:
            b = rng.randint(1, cur)
            parts_.append(rng.choice(LOSS).format(b=b))
            e, cur = ("-", e, num(b), False), cur - b
    return parts_, e


def join_events(rng, ps):
    if len(ps) == 1:
        return ps[0]
    return ", ".join(ps[:-1]) + rng.choice([" and ", ", then ", " and then ", ". Then "]) + ps[-1]


def arith_word(rng):
    while True:
        n, m = words.names(rng, 2)
        item = rng.choice(ITEMS)
        t = rng.randrange(8)
        if t <= 2:  # has a, then events
            a = operand(rng)
            ps, e = _events(rng, n, item, a)
            who = words.pronoun(rng, n)
            verb = rng.choice(["has", "had", "starts with", "owns"])
            q = f"{n} {verb} {a} {item}. {words.cap(who)} {join_events(rng, ps)}. " + rng.choice(
                [f"How many {item} does {n} have now?", f"How many {item} are left?", f"How many {item} now?",
                 f"How many does {n} have at the end?", f"How many {item} does {n} end up with?"])
        elif t == 3:  # a groups of b (+/- c)
            a, b = rng.randint(2, 12), operand(rng, big=False)
            cont = rng.choice([("boxes", "box"), ("bags", "bag"), ("packs", "pack"), ("rows", "row"), ("crates", "crate")])
            base = ("*", num(a), num(b), False)
            r = rng.random()
            if r < 0.4:
                q = f"{n} has {a} {cont[0]} with {b} {item} in each. How many {item} is that?"
                e = base
            elif r < 0.7:
                c = operand(rng, big=False)
                q = f"A {cont[1]} holds {b} {item}. How many {item} are in {a} {cont[0]} and {c} more loose ones?"
                e = ("+", base, num(c), False)
            else:
                c = rng.randint(1, 60)
                q = f"{n} buys {a} {cont[0]} of {b} {item} and gives {c} to {m}. How many {item} does {n} keep?"
                e = ("-", base, num(c), False)
        elif t == 4:  # pages / savings over days
            a, b = rng.randint(2, 30), rng.randint(2, 40)
            c = rng.randint(a * b, a * b + 900)
            if rng.random() < 0.5:
                q = f"{n} reads {a} pages a day for {b} days. The book has {c} pages. How many pages are left?"
            else:
                q = f"A tank holds {c} litres. {a} litres are drawn off every hour for {b} hours. How many litres remain?"
            e = ("-", num(c), ("*", num(a), num(b), False), False)
        elif t == 5:  # price and change
            a, b = rng.randint(2, 20), rng.randint(2, 30)
            c = rng.randint(a * b, a * b + 500)
            thing = rng.choice(["ticket", "pen", "cake", "bus pass", "notebook", "lamp"])
            q = rng.choice([f"A {thing} costs {a} dollars. {n} buys {b} of them and pays with {c} dollars. How much change does {n} get?",
                            f"{n} pays {c} euros for {b} items at {a} euros each. What is the change?"])
            e = ("-", num(c), ("*", num(b), num(a), False), False)
        elif t == 6:  # two people
            a, b = operand(rng), operand(rng)
            if rng.random() < 0.5:
                q = f"{n} has {a} {item} and {m} has {b}. " + rng.choice(
                    ["How many do they have together?", f"How many {item} do they have in total?", "What is the total?"])
                e = ("+", num(a), num(b), False)
            else:
                a, b = max(a, b), min(a, b)
                q = f"{n} has {a} {item} and {m} has {b}. " + rng.choice(
                    [f"How many more {item} does {n} have than {m}?", f"How many fewer does {m} have?",
                     f"What is the difference?"])
                e = ("-", num(a), num(b), False)
        else:  # a per unit times count, plus fixed
            a, b, c = rng.randint(2, 9), rng.randint(2, 99), rng.randint(1, 200)
            q = f"A taxi charges {c} dollars plus {a} dollars per km. What does a {b} km ride cost?"
            e = ("+", num(c), ("*", num(a), num(b), False), False)
        if ok_tree(e):
            break
    lines, v = evaluate_trace(e)
    return words.vary_case(rng, q), "\n".join(lines), str(v)


def arithmetic(rng):
    return arith_expr(rng) if rng.random() < 0.62 else arith_word(rng)
