"""Site data: short series of readings as a board logs them (issue 15).

Values are integers or have one decimal; a unit may follow each value or the list; readings may
carry timestamps. Questions and answer formats (units are never part of an answer):
  highest / lowest            the value as written in the readings       "23.4"
  count above / below t       an integer (strictly above / below)        "2"
  first vs last difference    larger minus smaller, one decimal when the readings have one   "1.3"
  first time above / below t  24-hour "H:MM", or "never"                 "8:20"
  which of two sensors        the sensor's name (higher mean; the series have equal length)  "T2"
  mean                        one decimal, rounded half up               "22.4"
Arithmetic on decimals is done in tenths ("21.5" -> 215), with the column steps of issue 3.
A mean divides the total digit by digit, each step writing the brought-down value, the quotient
digit, its product with the count and the remainder ("34:6*5=30r4"): the tenth model, which wrote
"34:6r4", took most of its wrong means from a remainder it had to recall in one token.
Every comparison is spelled out digit by digit (digit_cmp), so no decision in the trace is taken
on a whole number at once: the model kept writing the first comparison's y or n for every reading.
"""
import words
from fam_arith import add_sub, ones_first

# name words, unit forms, decimal?, low, high (in the value's own unit; decimals in tenths)
QUANT = [
    (["temperature", "temp", "room temperature", "water temperature"], ["°C", " °C", " C", "C", ""], True, 50, 400),
    (["temperature", "temp"], ["°C", " °C", ""], False, -0, 45),
    (["humidity", "relative humidity"], ["%", " %", ""], False, 20, 95),
    (["CO2", "CO2 level"], [" ppm", ""], False, 400, 1500),
    (["power", "load"], [" kW", ""], True, 5, 99),
    (["power draw"], [" W", ""], False, 10, 999),
    (["pressure"], [" hPa", ""], False, 980, 1040),
    (["pressure"], [" bar", ""], True, 10, 99),
    (["voltage", "battery voltage"], [" V", ""], True, 110, 149),
    (["flow", "flow rate"], [" L/min", ""], False, 5, 90),
    (["level", "tank level"], [" cm", ""], False, 10, 300),
    (["noise", "noise level"], [" dB", ""], False, 30, 95),
]
SENSORS = [("T1", "T2"), ("north", "south"), ("A", "B"), ("inlet", "outlet"), ("left", "right"), ("S1", "S2"),
           ("kitchen", "garage"), ("boiler", "attic"), ("east", "west"), ("top", "bottom"), ("P1", "P2"), ("room1", "room2")]


def fmt(v, dec):
    return f"{v // 10}.{v % 10}" if dec else str(v)


def series(rng, q, n):
    dec, lo, hi = q[2], q[3], q[4]
    start = rng.randint(lo, hi)
    step = max(1, (hi - lo) // 12)
    out = []
    for _ in range(n):
        out.append(start)
        start = min(hi, max(lo, start + rng.randint(-step, step)))
    return out


def render_series(rng, vals, dec, unit, stamps=None, label=None):
    vs = [fmt(v, dec) for v in vals]
    per_value = rng.random() < 0.5 and unit
    vu = [v + (unit if per_value else "") for v in vs]
    tail = "" if per_value or not unit else f" ({unit.strip()})"
    if stamps:
        ts = [s for s in stamps]
        style = rng.randrange(4)
        if style == 0:
            return "\n".join(f"{t} {v}" for t, v in zip(ts, vu)) + ("\n" + f"(unit {unit.strip()})" if tail else "")
        if style == 1:
            return ", ".join(f"{t} {v}" for t, v in zip(ts, vu)) + tail
        if style == 2:
            return ", ".join(f"{t}={v}" for t, v in zip(ts, vu)) + tail
        return "; ".join(f"at {t}: {v}" for t, v in zip(ts, vu)) + tail
    sep = rng.choice([", ", ", ", " ", "; ", ", then ", " | "])
    if sep == ", " and rng.random() < 0.3:
        return ", ".join(vu[:-1]) + " and " + vu[-1] + tail
    return sep.join(vu) + tail


def stamps_for(rng, n):
    t = rng.randint(0, 20 * 60)
    step = rng.choice([1, 5, 10, 15, 30, 60])
    zero = rng.random() < 0.6
    out, canon = [], []
    for i in range(n):
        h, m = divmod(t + i * step, 60)
        if h >= 24:
            return None, None
        out.append(f"{h:02d}:{m:02d}" if zero else f"{h}:{m:02d}")
        canon.append(f"{h}:{m:02d}")
    return out, canon


def intro(rng, name_, label=None):
    who = f"sensor {label}" if label else rng.choice(["the sensor", "a sensor", "the probe", "the meter", "the logger", "the board"])
    return rng.choice([f"{words.cap(name_)} readings: ", f"{words.cap(who)} logged {name_}: ", f"Readings of {name_}: ",
                       f"{words.cap(name_)}: ", f"{words.cap(who)} reported ", f"Last readings of {who}: ",
                       f"{words.cap(name_)} over the last hour: ", f"Data: "])


def threshold(rng, vals, dec, above=None):
    """A threshold; "above" and "below" are strict, so a reading equal to it counts as neither
    (one threshold in five is a reading's value, to teach that). For "first above/below" the first
    reading is mostly on the other side, so the series really crosses it."""
    if rng.random() < 0.2:
        t = rng.choice(vals[1:] if above is not None else vals)
        return t
    lo, hi = min(vals), max(vals)
    if above is not None and rng.random() < 0.8:
        lo, hi = (vals[0], hi + 3) if above else (lo - 3, vals[0])
    for _ in range(50):
        if dec:
            t = rng.randint(lo - 10, hi + 10)
            t = t - t % 10 if rng.random() < 0.5 else t  # whole numbers often
        else:
            t = rng.randint(lo - 2, hi + 2)
        if t not in vals and t >= 0:
            return t
    return None


def thr_text(t, dec):
    if dec and t % 10 == 0 and True:
        return str(t // 10)
    return fmt(t, dec)


def digit_cmp(a, b):
    """Compare two non-negative integers the way the trace spells it out: both padded with leading
    zeros to one length, then the digit pairs from the left up to the first that differs
    ("1015 0978 1>0", "67 64 6=6 7>4", "64 64 6=6 4=4"). Returns (a padded, b padded, the pairs,
    the relation "<", "=" or ">")."""
    sa, sb = str(a), str(b)
    w = max(len(sa), len(sb))
    sa, sb = sa.zfill(w), sb.zfill(w)
    pairs = []
    for x, y in zip(sa, sb):
        if x == y:
            pairs.append(f"{x}={y}")
            continue
        pairs.append(f"{x}{'>' if x > y else '<'}{y}")
        break
    rel = "=" if a == b else (">" if a > b else "<")
    return sa, sb, " ".join(pairs), rel


def cmp_line(v, t, dec, above):
    """One reading against the threshold, in tenths when the readings have a decimal: the asked
    comparison, the digit pairs that decide it, then y or n ("386>408 3<4 n")."""
    ok = v > t if above else v < t
    sa, sb, pairs, _ = digit_cmp(v, t)
    return f"{sa}{'>' if above else '<'}{sb} {pairs} {'y' if ok else 'n'}", ok


def sum_lines(vals):
    lines, acc = [], vals[0]
    for v in vals[1:]:
        lines += add_sub(acc, "+", v)[0]
        acc += v
    return lines, acc


def site(rng, kind=None):
    """kind: one of the question kinds below (fam_story asks for more means); None draws it."""
    q = rng.choice(QUANT)
    name_, unit, dec = rng.choice(q[0]), rng.choice(q[1]), q[2]
    asked = kind
    kind = kind or rng.choices(["max", "min", "count", "diff", "first", "pair", "mean"], [14, 12, 18, 14, 16, 12, 14])[0]
    n = rng.randint(3, 8) if kind != "pair" else rng.randint(3, 5)
    vals = series(rng, q, n)
    lines = []
    if kind == "first":
        stamps, canon = stamps_for(rng, n)
        if not stamps:
            return site(rng, asked)
    else:
        stamps, canon = (stamps_for(rng, n) if rng.random() < 0.3 else (None, None))
    if kind == "pair":
        a, b = rng.choice(SENSORS)
        other = series(rng, q, n)
        if sum(other) == sum(vals):
            return site(rng, asked)
        body = rng.choice([f"{a}: {render_series(rng, vals, dec, unit)}. {b}: {render_series(rng, other, dec, unit)}.",
                           f"Sensor {a} read {render_series(rng, vals, dec, unit)}; sensor {b} read {render_series(rng, other, dec, unit)}.",
                           f"{words.cap(name_)} {a}: {render_series(rng, vals, dec, unit)}\n{name_} {b}: {render_series(rng, other, dec, unit)}"])
        hot = "temp" in name_
        qs = [f"Which sensor ran hotter?", f"Which ran hotter on average, {a} or {b}?", f"Which one was warmer overall?",
              f"Which was hotter on average?"] if hot else \
             [f"Which sensor read higher on average?", f"Which had the higher average, {a} or {b}?", f"Which sensor's {name_} was higher overall?"]
        for lab, vs in ((a, vals), (b, other)):
            if dec:
                lines.append(f"{lab} " + " ".join(str(v) for v in vs))
            ls, s = sum_lines(vs)
            lines += ls + [f"{lab}={s}"]
        sa, sb = sum(vals), sum(other)
        pa, pb, pairs, _ = digit_cmp(sa, sb)
        lines += [f"{pa} {pb} {pairs}", a if sa > sb else b]
        return words.vary_case(rng, body + rng.choice([" ", "\n"]) + rng.choice(qs)), "\n".join(lines), a if sa > sb else b
    body = intro(rng, name_) + render_series(rng, vals, dec, unit, stamps) + rng.choice([".", "", "."])
    u = unit.strip()
    if kind in ("max", "min"):
        big = kind == "max"
        qs = [f"What was the highest reading?", f"What is the maximum?", "Highest value?", f"What was the peak {name_}?",
              f"What was the maximum {name_}?", "max?", f"What was the highest {name_}?"] if big else \
             [f"What was the lowest reading?", f"What is the minimum?", "Lowest value?", f"What was the minimum {name_}?",
              "min?", f"What was the lowest {name_}?"]
        run, best = [], vals[0]
        for v in vals:
            best = max(best, v) if big else min(best, v)
            run.append(fmt(best, dec))
        lines.append(("max " if big else "min ") + " ".join(run))
        ans = fmt(best, dec)
    elif kind == "count":
        t = threshold(rng, vals, dec)
        above = rng.random() < 0.55
        if t is None:
            return site(rng, asked)
        tt = thr_text(t, dec) + (rng.choice(["", unit]) if unit else "")
        qs = [f"How many readings were above {tt}?", f"How many values exceed {tt}?", f"How many times was it over {tt}?",
              f"Count the readings above {tt}.", f"How many readings are higher than {tt}?"] if above else \
             [f"How many readings were below {tt}?", f"How many values are under {tt}?", f"How many times was it below {tt}?",
              f"Count the readings below {tt}.", f"How many readings are lower than {tt}?"]
        c = 0
        for v in vals:
            ln, ok = cmp_line(v, t, dec, above)
            c += ok
            lines.append(f"{ln} {c}")
        ans = str(c)
    elif kind == "diff":
        qs = ["What is the difference between the first and the last reading?", "How much did it change from first to last?",
              "Difference between first and last value?", f"By how much did the {name_} change from the first reading to the last?",
              "What is the change between the first and last readings?"]
        f, l = vals[0], vals[-1]
        hi_, lo_ = max(f, l), min(f, l)
        lines.append(f"{fmt(f, dec)} {fmt(l, dec)}")
        lines += add_sub(hi_, "-", lo_)[0]
        d = hi_ - lo_
        if dec:
            lines.append(f"={fmt(d, True)}")
        ans = fmt(d, dec)
    elif kind == "first":
        above = rng.random() < 0.6
        t = threshold(rng, vals, dec, above)
        if t is None:
            return site(rng, asked)
        tt = thr_text(t, dec) + (rng.choice(["", unit]) if unit else "")
        qs = [f"When did it first go above {tt}?", f"At what time did the {name_} first exceed {tt}?",
              f"When was it first over {tt}?", f"What time did it first rise above {tt}?"] if above else \
             [f"When did it first drop below {tt}?", f"At what time did the {name_} first fall below {tt}?",
              f"When was it first under {tt}?", f"What time did it first go below {tt}?"]
        ans = "never"
        for c_, v in zip(canon, vals):
            ln, ok = cmp_line(v, t, dec, above)
            lines.append(f"{c_} {ln}")
            if ok:
                ans = c_
                break
    else:  # mean, one decimal, rounded half up
        qs = ["What is the average?", f"What was the mean {name_}?", "Mean of the readings?", "What is the average reading?",
              f"Average {name_}?", "What was the average value (one decimal)?"]
        if dec:
            lines.append(" ".join(str(v) for v in vals))
        ls, s = sum_lines(vals)
        lines += ls
        total = s if dec else s * 10
        digits, cur, qd, steps = str(total), 0, "", []
        for dg in digits:
            cur = cur * 10 + int(dg)
            qd += str(cur // n)
            steps.append(f"{cur}:{cur // n}*{n}={cur // n * n}r{cur % n}")
            cur %= n
        qv, r = int(qd), cur
        lines.append(f"{total}/{n}: " + " ".join(steps) + f" ={qv}r{r}")
        if 2 * r >= n:
            lines.append(f"{r}*2={2 * r}>={n} up")
            lines += add_sub(qv, "+", 1)[0]
            qv += 1
        else:
            lines.append(f"{r}*2={2 * r}<{n} keep")
        ans = fmt(qv, True)
        lines.append(f"={ans}")
    sp = rng.choice([" ", "\n", " "])
    return words.vary_case(rng, body + sp + rng.choice(qs)), "\n".join(lines), ans
