"""Word lists and small helpers shared by the task grammars (issue 15).

Names are not a fixed list: half are drawn from common first names, half are made-up
capitalised words, so the student has to copy whatever name the question uses
(the first shipped model rewrote "Alice" as "Cal").
"""
import contextlib

FIRST = """Ann Ben Cal Dan Eve Fay Gus Hal Ivy Jon Kim Lea Max Ned Oli Pam Alice Bob Carol Dave Erin Frank
Grace Heidi Ivan Judy Karl Laura Mallory Nina Oscar Peggy Quinn Rupert Sybil Trent Ursula Victor Wendy Xavier
Yara Zoe Ahmed Aisha Bruno Chen Diego Elena Fatima Giulia Hiro Ines Jamal Kenji Lucia Mateo Nadia Omar Priya
Ravi Sofia Tomas Uma Wei Yusuf Anna Emma Liam Noah Olivia Mia Lucas Leo Ella Sam Alex Chris Pat Jo Lou Ali
Mohammed Sven Ingrid Olga Pavel Marta Jan Piet Kofi Amara Zara Leila Tariq Sanjay Mei Jin Ana Rosa Carlos""".split()
SYL = ["ka", "lo", "mi", "ra", "ven", "dor", "el", "an", "ber", "to", "si", "ul", "ta", "ne", "bri", "go",
       "hel", "ix", "mor", "pa", "qu", "ri", "sa", "tem", "vy", "wen", "ya", "zo", "ch", "st", "o", "e", "ly", "nn"]


_SOURCE = [None]  # another name generator, set by name_source (fam_story's wider names)


@contextlib.contextmanager
def name_source(gen):
    """Within the block, name() draws from gen(rng) (None: the usual mix). The default path draws
    the same random numbers as ever, so the first grammars' data sets do not change."""
    old = _SOURCE[0]
    _SOURCE[0] = gen
    try:
        yield
    finally:
        _SOURCE[0] = old


def name(rng):
    if _SOURCE[0] is not None:
        return _SOURCE[0](rng)
    if rng.random() < 0.5:
        return rng.choice(FIRST)
    s = "".join(rng.choice(SYL) for _ in range(rng.randint(1, 3)))
    if len(s) < 2:
        s += rng.choice(SYL)
    return s[:10].capitalize()


def names(rng, k):
    out = []
    while len(out) < k:
        n = name(rng)
        # no name may contain another (the trace copies names; "Ann" inside "Anna" is fine for
        # the model but makes a checker that searches text ambiguous)
        if all(n not in o and o not in n for o in out):
            out.append(n)
    return out


def pronoun(rng, n):
    return rng.choice([n, "he", "she"]) if rng.random() < 0.5 else n


def cap(s):
    return s[:1].upper() + s[1:]


def vary_case(rng, s):
    """Users type lower case and drop final punctuation; keep most questions tidy."""
    r = rng.random()
    if r < 0.08:
        s = s[:1].lower() + s[1:]
    if r > 0.93 and s[-1:] in "?.":
        s = s[:-1]
    return s
