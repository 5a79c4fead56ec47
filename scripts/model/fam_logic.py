"""Ordering logic (issue 3, rewritten as a grammar for issue 15).

Three to five people with any names, facts in many wordings and any order. The trace writes
each fact as "X>Y" (more of the attribute on the left), grows the chain one fact at a time, then
spells out the decision on a line of its own before the answer: a superlative writes its word and
the end of the chain it names ("youngest last", then the name); "Is X taller than Y?" writes X and
Y related as the chain orders them ("X<Y"), the question's word and its direction ("taller >"),
then both symbols and the answer ("<> no"); "Who is taller, X or Y?" writes the pair as the chain
orders it, the word and its end ("taller first"), then the name. Answers: a name, or yes / no.
"""
import words

# (more, less, most, least, [(more-phrase, less-phrase)] for "X <phrase> Y")
ATTRS = [
    ("taller", "shorter", "tallest", "shortest", [("is taller than", "is shorter than"), ("is taller than", "is not as tall as")]),
    ("older", "younger", "oldest", "youngest", [("is older than", "is younger than"), ("was born before", "was born after")]),
    ("faster", "slower", "fastest", "slowest", [("is faster than", "is slower than"), ("runs faster than", "runs slower than")]),
    ("heavier", "lighter", "heaviest", "lightest", [("is heavier than", "is lighter than"), ("weighs more than", "weighs less than")]),
    ("stronger", "weaker", "strongest", "weakest", [("is stronger than", "is weaker than")]),
    ("richer", "poorer", "richest", "poorest", [("is richer than", "is poorer than"), ("has more money than", "has less money than")]),
    ("smarter", "less smart", "smartest", "least smart", [("is smarter than", "is less smart than")]),
    ("happier", "sadder", "happiest", "saddest", [("is happier than", "is sadder than")]),
]


def fact_text(rng, x, y, attr):
    """A sentence saying x > y on attr."""
    more_p, less_p = rng.choice(attr[4])
    return f"{x} {more_p} {y}" if rng.random() < 0.5 else f"{y} {less_p} {x}"


def chain_lines(facts):
    """Grow the chain from the first fact, attaching the next fact (in order of appearance) that
    fits at either end; every growth is one line."""
    chain = list(facts[0])
    rest = list(facts[1:])
    lines = []
    while rest:
        for f in rest:
            if f[0] == chain[-1]:
                chain.append(f[1])
            elif f[1] == chain[0]:
                chain.insert(0, f[0])
            else:
                continue
            rest.remove(f)
            lines.append(">".join(chain))
            break
    return lines, chain


def logic(rng):
    k = rng.choices([3, 4, 5], [60, 32, 8])[0]
    people = words.names(rng, k)  # true order: people[0] has the most of the attribute
    attr = rng.choice(ATTRS)
    more, less, most, least = attr[:4]
    facts = [(people[i], people[i + 1]) for i in range(k - 1)]
    rng.shuffle(facts)
    sents = [fact_text(rng, x, y, attr) for x, y in facts]
    sep = rng.choice([". ", ". ", "; ", ".\n", ", and "]) if k == 3 else rng.choice([". ", ". ", ".\n", "; "])
    body = sep.join(sents) + "."
    if rng.random() < 0.15:
        body = rng.choice(["Facts: ", "Given: ", "We know: "]) + body
    lines = [f"{x}>{y}" for x, y in facts]
    grow, chain = chain_lines(facts)
    lines += grow
    rank = {p: i for i, p in enumerate(chain)}
    t = rng.random()
    group = rng.choice(["", "", " of them", " of the three" if k == 3 else " of all", " among them", " in the group"])
    if t < 0.25:
        q = rng.choice([f"Who is the {most}{group}?", f"Who is {most}?", f"Which one is the {most}?",
                        f"Who is the {most} person?", f"Name the {most}.", f"Who's the {most}?"])
        ans = chain[0]
        lines += [f"{most} first", ans]
    elif t < 0.5:
        q = rng.choice([f"Who is the {least}{group}?", f"Who is {least}?", f"Which one is the {least}?",
                        f"Who is the {least} person?", f"Name the {least}.", f"Who's the {least}?"])
        ans = chain[-1]
        lines += [f"{least} last", ans]
    elif t < 0.8:
        x, y = rng.sample(chain, 2)
        word = rng.choice([more, less])
        truth = rank[x] < rank[y] if word == more else rank[x] > rank[y]
        q = rng.choice([f"Is {x} {word} than {y}?", f"Is it true that {x} is {word} than {y}?",
                        f"Is {x} {word} than {y}, yes or no?", f"Is {x} {word} than {y}? Answer yes or no."])
        ans = "yes" if truth else "no"
        # how the chain relates x to y, the direction the question asks, then the two symbols
        rel = ">" if rank[x] < rank[y] else "<"
        want = ">" if word == more else "<"
        lines += [f"{x}{rel}{y}", f"{word} {want}", f"{rel}{want} {ans}"]
    else:
        x, y = rng.sample(chain, 2)
        word = rng.choice([more, less])
        q = rng.choice([f"Who is {word}, {x} or {y}?", f"Who is {word}: {x} or {y}?", f"Which is {word}, {x} or {y}?",
                        f"Of {x} and {y}, who is {word}?"])
        p, r = (x, y) if rank[x] < rank[y] else (y, x)
        ans = p if word == more else r
        lines += [f"{p}>{r}", f"{word} {'first' if word == more else 'last'}", ans]
    sp = rng.choice([" ", " ", "\n"])
    return words.vary_case(rng, body + sp + q), "\n".join(lines), ans
