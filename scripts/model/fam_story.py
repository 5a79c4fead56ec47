"""A second, wider grammar for the training data (issue 15, tenth run).

The first grammars (fam_*.py) write word problems from eight fixed sentence shapes, and the
held-out set is drawn from them. People write differently: totals over days or months, counts
in words ("Five workers each bring 14"), rows of seats, pages every evening, lengths cut off a
ribbon, lists to add up, two products in one expression, deadlines to leave by, shop hours in
am/pm, names of any shape. This module writes such questions with the traces of the families
they belong to (the same canonical first line and column steps), from its own random stream:
train.py adds them to the training set after the held-out split, so heldout.jsonl stays the
same questions as before and keeps measuring the same thing.
"""

import fam_arith as A
import fam_logic
import fam_site
import fam_time
import words

NUMW = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten",
        11: "eleven", 12: "twelve"}
SUBJECTS = ["A farmer", "A baker", "A teacher", "The shop", "A school", "The club", "A gardener", "The library",
            "A factory", "The team", "Our class", "A student", "My neighbour", "The cafe", "A nurse", "The depot",
            "A driver", "The warehouse", "A fisherman", "The kitchen"]
# (past verb, base verb, items it goes with)
DOINGS = [("collected", "collect", ["eggs", "shells", "apples", "bottles", "stamps"]),
          ("picked", "pick", ["apples", "pears", "plums", "flowers", "berries"]),
          ("sold", "sell", ["tickets", "cakes", "books", "cups", "plants"]),
          ("baked", "bake", ["loaves", "cakes", "pies", "rolls", "cookies"]),
          ("caught", "catch", ["fish", "crabs"]),
          ("planted", "plant", ["trees", "seeds", "bulbs", "plants"]),
          ("made", "make", ["chairs", "boxes", "parts", "candles", "toys"]),
          ("packed", "pack", ["parcels", "boxes", "crates", "orders"]),
          ("repaired", "repair", ["bikes", "phones", "pumps", "lamps"]),
          ("read", "read", ["pages", "books", "reports"]),
          ("served", "serve", ["customers", "meals", "coffees"])]
PERIODS = [["on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday"],
           ["in January", "in February", "in March", "in April", "in May", "in June"],
           ["in the morning", "in the afternoon", "in the evening"],
           ["last week", "this week"], ["yesterday", "today"],
           ["in the first hour", "in the second hour", "in the third hour"],
           ["at the first stop", "at the second stop", "at the third stop"],
           ["in the first round", "in the second round", "in the third round"]]
MONEY = ["dollars", "euros", "pounds", "francs"]
CONTAINERS = [("boxes", "box"), ("bags", "bag"), ("packs", "pack"), ("rows", "row"), ("crates", "crate"), ("trays", "tray"),
              ("shelves", "shelf"), ("cartons", "carton"), ("baskets", "basket"), ("jars", "jar")]
GROUP_ITEMS = ["cookies", "desks", "chairs", "seats", "bottles", "eggs", "books", "pencils", "batteries", "apples",
               "screws", "tiles", "cards", "plants", "cans", "cups", "stamps", "markers"]
PEOPLE = ["friends", "children", "students", "workers", "players", "guests", "teams", "neighbours", "volunteers"]
MEASURES = [("cm", ["rope", "ribbon", "board", "pipe", "wire", "strip of cloth"], "long", "How long is"),
            ("m", ["fence", "cable", "hose", "roll of tape"], "long", "How long is"),
            ("litres", ["tank", "barrel", "pool", "tub"], "full", "How much water is in"),
            ("kg", ["sack of rice", "bag of flour", "pile of sand", "crate of apples"], "heavy", "How heavy is"),
            ("km", ["route", "trail", "road trip"], "long", "How long is")]


def count_text(rng, n):
    return NUMW[n] if n in NUMW and rng.random() < 0.45 else str(n)


def subject(rng):
    """(subject as written, how later sentences refer to it, pronoun)."""
    if rng.random() < 0.5:
        n = words.name(rng)
        return n, n, rng.choice(["he", "she", n])
    s = rng.choice(SUBJECTS)
    return s, ("the " + s.split(" ", 1)[1]) if s.startswith("A ") else s[:1].lower() + s[1:], "they"


def periods_story(rng):
    """Totals over periods, then sometimes something used or spent."""
    s, ref, pro = subject(rng)
    money = rng.random() < 0.3
    ps = rng.choice(PERIODS)
    k = rng.choices([2, 3], [70, 30])[0] if len(ps) >= 3 else 2
    start = rng.randrange(len(ps) - k + 1)
    chosen = ps[start:start + k]
    amounts = [A.operand(rng) for _ in range(k)]
    if money:
        unit = rng.choice(MONEY)
        verb, base = rng.choice([("saved", "save"), ("earned", "earn"), ("made", "make"), ("raised", "raise")])
        item = unit
    else:
        verb, base, its = rng.choice(DOINGS)
        item = rng.choice(its)
    first = f"{s} {verb} {amounts[0]} {item} {chosen[0]}"
    rest = [f"{a}{' ' + item if rng.random() < 0.4 else ''} {p}" for a, p in zip(amounts[1:], chosen[1:])]
    body = first + (" and " + rest[0] if k == 2 else ", " + rest[0] + " and " + rest[1])
    e = A.num(amounts[0])
    for a in amounts[1:]:
        e = ("+", e, A.num(a), False)
    total = A.value(e)
    if rng.random() < 0.35 and total > 2:
        c = rng.randint(1, total)
        loss = rng.choice(["spent {c}", "spent {c} of it", "gave {c} to a friend"] if money else
                          ["used {c}", "gave away {c}", "lost {c}", "sold {c}" if base != "sell" else "returned {c}"]).format(c=c)
        body += rng.choice([", then ", " and then ", ". Then " + pro + " ", ". Later " + pro + " "]) + loss
        e = ("-", e, A.num(c), False)
        qs = ([f"How much does {ref} have now?", f"How much money is left?", f"How many {item} are left?"] if money else
              [f"How many {item} are left?", f"How many {item} does {ref} have now?", "How many are left?"])
    else:
        span = {2: "in the two " + ("days" if "day" in chosen[0] else "periods"), 3: "in all"}[k]
        qs = ([f"How much did {ref} {base} in total?", f"How much money is that in all?", f"How many {item} altogether?"]
              if money else
              [f"How many {item} did {ref} {base} {span}?", f"How many {item} in total?", f"How many {item} altogether?",
               "What is the total?", f"How many {item} did {ref} {base} in all?"])
    return words.cap(body) + ". " + rng.choice(qs), e


def groups_story(rng):
    """Equal groups: rows of seats, friends who each bring some, pages every evening; then maybe
    some used, some more, or what is still missing from a total."""
    n, m = rng.randint(2, 12), max(2, A.operand(rng, big=False))
    item = rng.choice(GROUP_ITEMS)
    c_pl, c_sg = rng.choice(CONTAINERS)
    s, ref, pro = subject(rng)
    nt = count_text(rng, n)
    t = rng.randrange(7)
    if t == 0:
        body = f"{s} has {nt} {c_pl} of {m} {item}"
    elif t == 1:
        body = f"There are {nt} {c_pl} with {m} {item} in each"
    elif t == 2:
        body = f"{words.cap(nt)} {rng.choice(PEOPLE)} each {rng.choice(['bring', 'have', 'buy', 'get', 'make'])} {m} {item}"
    elif t == 3:
        body = f"Each of the {nt} {c_pl} holds {m} {item}"
    elif t == 4:
        body = f"{s} puts {m} {item} in each of {nt} {c_pl}"
    elif t == 5:
        room = rng.choice(["A classroom", "A hall", "A theatre", "A bus", "A garden", "A car park"])
        item = rng.choice({"A garden": ["plants", "trees"], "A car park": ["spaces", "cars"]}.get(room, ["seats", "desks", "chairs"]))
        body = f"{room} has {nt} rows of {m} {item}"
    else:
        item, per, pers, verbs = rng.choice([("pages", "evening", "evenings", ["reads"]), ("pages", "day", "days", ["reads"]),
                                             ("km", "day", "days", ["cycles", "walks", "drives"]),
                                             ("dollars", "week", "weeks", ["saves", "earns", "puts aside"]),
                                             ("letters", "hour", "hours", ["writes", "sorts"]),
                                             ("laps", "morning", "mornings", ["swims", "runs"])])
        body = f"{s} {rng.choice(verbs)} {m} {item} {rng.choice(['every', 'each', 'a'])} {per} for {nt} {pers}"
    e = ("*", A.num(n), A.num(m), False)
    r = rng.random()
    if r < 0.5:
        qs = [f"How many {item} are there?", f"How many {item} in total?", f"How many {item} altogether?",
              "What is the total?", f"How many {item} is that?"]
        return words.cap(body) + ". " + rng.choice(qs), e
    if r < 0.75:
        c = rng.randint(1, n * m)
        body += rng.choice([f" and {rng.choice(['uses', 'sells', 'gives away', 'loses', 'breaks'])} {c}",
                            f". {s if t in (1, 2, 3, 5) else words.cap(pro)} {rng.choice(['uses', 'gives away', 'hands out'])} {c}"])
        return words.cap(body) + ". " + rng.choice([f"How many {item} are left?", "How many are left?",
                                                    f"How many {item} remain?"]), ("-", e, A.num(c), False)
    if r < 0.88:
        c = A.operand(rng, big=False)
        body += f", plus {c} more"
        return words.cap(body) + ". " + rng.choice([f"How many {item} are there in all?", f"How many {item} in total?"]), \
            ("+", e, A.num(c), False)
    total = rng.randint(n * m, n * m + 400)
    need = rng.choice([f"The goal is {total} {item}. How many more are needed?",
                       f"{total} {item} are needed in all. How many are still missing?",
                       f"The full amount is {total} {item}. How many {item} are still to go?"])
    return words.cap(body) + ". " + need, ("-", A.num(total), e, False)


def measure_story(rng):
    unit, things, adj, how = rng.choice(MEASURES)
    thing = rng.choice(things)
    s = subject(rng)[0]
    a = rng.randint(20, 999) if rng.random() < 0.8 else rng.randint(1000, 4000)
    r = rng.random()
    if r < 0.6:
        b = rng.randint(1, a - 1)
        verb = {"cm": "cuts off", "m": "cuts off", "litres": "drains", "kg": "uses", "km": "drives"}[unit]
        body = (f"A {thing} is {a} {unit} {adj}. {s} {verb} {b} {unit}." if adj != "full" else
                f"A {thing} holds {a} {unit}. {s} {verb} {b} {unit}.")
        q = rng.choice([f"{how} the {thing} that remains?", f"How many {unit} are left?",
                        f"{how} what is left, in {unit}?", "How much is left?"])
        return body + " " + q, ("-", A.num(a), A.num(b), False)
    if r < 0.8:
        b = rng.randint(1, a // 2)
        c = rng.randint(1, a - b)
        body = f"A {thing} is {a} {unit}{' ' + adj if adj != 'full' else ''}. {s} takes {b} {unit}, then {c} {unit}."
        return body + " " + rng.choice([f"How many {unit} are left?", "How much remains?"]), \
            ("-", ("-", A.num(a), A.num(b), False), A.num(c), False)
    b = rng.randint(20, 999)
    body = f"One {thing} is {a} {unit}{' ' + adj if adj != 'full' else ''} and another is {b} {unit}."
    return body + " " + rng.choice([f"How many {unit} together?", "What is their total?", f"How many {unit} in all?"]), \
        ("+", A.num(a), A.num(b), False)


def list_story(rng):
    k = rng.choices([3, 4], [70, 30])[0]
    xs = [A.operand(rng) for _ in range(k)]
    lst = ", ".join(map(str, xs[:-1])) + rng.choice([" and ", ", and ", ", "]) + str(xs[-1])
    if rng.random() < 0.7:
        tpl = rng.choice(["Add {l}.", "Add up {l}.", "What is the sum of {l}?", "Total of {l}?", "Find the total of {l}.",
                          "Sum {l}.", "What do {l} add up to?", "What is {l} added together?"])
        e = A.num(xs[0])
        for x in xs[1:]:
            e = ("+", e, A.num(x), False)
        return tpl.format(l=lst), e
    a, b, c = max(xs), xs[0] if xs[0] != max(xs) else xs[1], rng.randint(1, 99)
    tpl = rng.choice(["Start with {a}, add {c}, then subtract {b}.", "Take {a}, add {c} and take away {b}.",
                      "Subtract {b} from {a}, then add {c}.", "{a} plus {c} minus {b}?"])
    if tpl.startswith("Subtract"):
        return tpl.format(a=a, b=b, c=c), ("+", ("-", A.num(a), A.num(b), False), A.num(c), False)
    return tpl.format(a=a, b=b, c=c), ("-", ("+", A.num(a), A.num(c), False), A.num(b), False)


def products_expr(rng):
    """Two products in one expression ("8*7-6*5"): the first grammar has at most one."""
    small = lambda: rng.randint(2, 12) if rng.random() < 0.7 else rng.randint(13, 60)
    p, q = ("*", A.num(small()), A.num(small()), False), ("*", A.num(small()), A.num(small()), False)
    op = rng.choice("+-")
    e = (op, p, q, False)
    if rng.random() < 0.25:
        e = (rng.choice("+-"), e, A.num(A.operand(rng, big=False)), False)
    style = "mix" if rng.random() < 0.5 else rng.choice([{"+": "+", "-": "-", "*": "*"}, {"+": " + ", "-": " - ", "*": " * "},
                                                         {"+": " + ", "-": " - ", "*": " × "}])
    body = A.render(rng, e, style)
    tpl = rng.choice(["Compute {e}.", "What is {e}?", "{e} = ?", "Calculate {e}.", "Evaluate {e}.", "{e}?", "Work out {e}.",
                      "{e}", "What's {e}?"])
    return tpl.format(e=body), e


def arithmetic_story(rng):
    while True:
        g = rng.choices([periods_story, groups_story, measure_story, list_story, products_expr], [26, 30, 18, 12, 14])[0]
        q, e = g(rng)
        if A.ok_tree(e) and A.value(e) >= 0:
            break
    lines, v = A.evaluate_trace(e)
    return words.vary_case(rng, q), "\n".join(lines), str(v)


EVENTS = ["meeting", "film", "class", "workshop", "shift", "match", "concert", "lecture", "backup", "test run", "service"]
TIME_START = ["A {ev} ends at {b} after running {d}. When did it start?",
              "The {ev} finished at {b}; it had lasted {d}. What time did it begin?",
              "I must be at {p} by {b} and the trip takes {d}. When do I have to leave?",
              "{n} has to be at {p} by {b}. Getting there takes {d}. What is the latest time {n} can leave?",
              "To arrive at {b} after a {d} drive, when should {n} set off?",
              "The {ev} should end at {b} and needs {d}. When must it start?",
              "It is {b} now. What time was it {d} ago?"]
TIME_DUR = ["{P} is open from {a} to {b}. How long is it open?",
            "The {ev} runs from {a} to {b}. How long is it?",
            "{T} on at {a}, done at {b}. How long did it take?",
            "Started {a}, finished {b}. How long?",
            "From {a} until {b}: how many hours and minutes?",
            "{n} worked from {a} to {b}. How long was that?",
            "The {ev} began at {a} and was over at {b}. How long did it last?"]
TIME_END = ["A {ev} starts at {a} and lasts {d}. When does it end?",
            "The {ev} begins at {a}; it takes {d}. What time is it over?",
            "{n} sets off at {a} and the trip takes {d}. When does {n} arrive?",
            "Starting at {a}, a {d} job finishes when?",
            "If the {ev} starts at {a} and runs {d}, when is it finished?"]
SHOPS = ["The store", "The bakery", "The pool", "The museum", "The office", "The clinic", "The market", "The library"]
THINGS = ["Kettle", "Oven", "Machine", "Pump", "Heater", "Printer", "Washer", "Dryer"]


class _Fill(dict):
    def __missing__(self, k):
        return "{" + k + "}"


def time_story(rng):
    """The time family's computations with other sentences, and times on the hour (noon, 10 am) as
    often as not, since people pick round times."""
    fill = lambda t: t.format_map(_Fill(ev=rng.choice(EVENTS), p=rng.choice(fam_time.PLACES), P=rng.choice(SHOPS),
                                        T=rng.choice(THINGS)))
    r = rng.random()
    if r < 0.4:
        return fam_time.start_q(rng, [fill(t) for t in TIME_START], round_times=True)
    if r < 0.75:
        return fam_time.duration_q(rng, [fill(t) for t in TIME_DUR], round_times=True)
    return fam_time.end_q(rng, [fill(t) for t in TIME_END], round_times=True)


def wide_name(rng):
    """Names of any shape: one to four letters-groups with rare letters (w, x, z, y, q, c, g, f, j),
    short ones (Cy, Bo) and long ones, so the model copies letters instead of known syllables."""
    cons = "bcdfghjklmnprstvwxyzqg"
    vow = "aeiouy"
    k = rng.choices([1, 2, 3], [30, 50, 20])[0]
    s = "".join(rng.choice(cons) + rng.choice(vow) + (rng.choice(cons) if rng.random() < 0.5 else "") for _ in range(k))
    return s[:11].capitalize()


def logic_story(rng):
    with words.name_source(wide_name if rng.random() < 0.7 else None):
        return fam_logic.logic(rng)


def site_story(rng):
    """More means and comparisons: the held-out site misses are mostly means of 5-8 readings."""
    return fam_site.site(rng, kind=rng.choice(["mean", "mean", "max", "min", "first", "count"]))


STORIES = {"arithmetic": arithmetic_story, "time": time_story, "logic": logic_story, "site": site_story}
