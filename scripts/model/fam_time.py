"""Clock times and durations (issue 3, rewritten as a grammar for issue 15).

Times are read in the forms people write (9:05, 09:05, 9 am, 9:05 pm, noon, 21:40) and durations
too (1 h 30 min, 1h30, 90 minutes, 2 hours, half an hour). The trace first writes every
non-canonical time or duration in canonical form ("9:40 pm=21:40", "90 min=1:30"), then one
canonical problem line ("11:15-9:40", "9:40+1:35", "11:15-1:35") and the column steps of issue 3.
Answers: a duration as "H h M min" (both parts always), a clock time as 24-hour "H:MM".
Everything stays within one day.
"""
import words


def hm(h, m):
    return f"{h}:{m:02d}"


def clock_text(rng, t, allow_ampm=True):
    """Render minutes-since-midnight t as people write it; returns (text, canonical-line or None)."""
    h, m = divmod(t, 60)
    r = rng.random()
    if t == 12 * 60 and r < 0.15:
        return "noon", f"noon={hm(h, m)}"
    if t == 0 and r < 0.3:
        return "midnight", f"midnight={hm(h, m)}"
    if allow_ampm and r < 0.3:
        h12 = h % 12 or 12
        suf = rng.choice(["am", "pm", " am", " pm", " a.m.", " p.m.", " AM", " PM"])
        suf = suf.replace("am", "pm").replace("a.m.", "p.m.").replace("AM", "PM") if h >= 12 else \
            suf.replace("pm", "am").replace("p.m.", "a.m.").replace("PM", "AM")
        txt = (f"{h12}" if m == 0 and rng.random() < 0.7 else f"{h12}:{m:02d}") + suf
        return txt, f"{txt.strip()}={hm(h, m)}"
    if r < 0.45:
        return f"{h:02d}:{m:02d}", (None if h >= 10 else f"{h:02d}:{m:02d}={hm(h, m)}")
    return hm(h, m), None


def dur_text(rng, d):
    """Render a duration in minutes; returns (text, canonical-line or None). Canonical is H:MM."""
    h, m = divmod(d, 60)
    forms = []
    if h and m:
        forms += [f"{h} h {m} min", f"{h} h {m} min", f"{h}h {m}min", f"{h}h{m:02d}", f"{h} hr {m} min", f"{d} minutes", f"{d} min"]
        if h > 1:
            forms += [f"{h} hours {m} minutes", f"{h} hours and {m} minutes"]
        if h == 1:
            forms += ["1 hour and {} minutes".format(m), f"1 hour {m} minutes"]
        if m == 30:
            forms += [f"{h} and a half hours"] if h > 1 else ["an hour and a half"]
    elif h:
        forms += [f"{h} h", f"{d} minutes"] + (["1 hour", "an hour", "1 hr"] if h == 1 else [f"{h} hours", f"{h} hrs"])
    else:
        forms += [f"{m} min", f"{m} minutes", f"{m} mins", f"0 h {m} min"] + (["half an hour"] if m == 30 else []) \
                 + (["a quarter of an hour", "a quarter hour"] if m == 15 else [])
    txt = rng.choice(forms)
    return txt, f"{txt}={hm(h, m)}"


PLACES = ["the station", "the office", "school", "the airport", "the port", "home", "the depot", "the clinic"]


def duration_q(rng, tpls=None, round_times=False):
    while True:
        t1, d = rng.randint(0, 23 * 60 + 50), rng.randint(1, 600) if rng.random() < 0.3 else rng.randint(5, 300)
        if round_times and rng.random() < 0.5:
            t1 -= t1 % 60
        if t1 + d < 24 * 60:
            break
    t2 = t1 + d
    a, ca = clock_text(rng, t1)
    b, cb = clock_text(rng, t2)
    n = words.name(rng)
    tpl = rng.choice(tpls or [
        "A train leaves at {a} and arrives at {b}. How long is the trip?",
        "A bus leaves {p} at {a} and gets in at {b}. How long is the ride?",
        "A film starts at {a} and ends at {b}. How long is the film?",
        "{n} starts work at {a} and stops at {b}. How long does {n} work?",
        "The meeting ran from {a} to {b}. How long was it?",
        "How long is it from {a} to {b}?", "How much time is there between {a} and {b}?",
        "How many hours and minutes from {a} to {b}?", "Time from {a} to {b}?", "{a} to {b} is how long?",
        "A flight departs at {a} and lands at {b} the same day. What is the flight time?",
        "{n} fell asleep at {a} and woke up at {b}. How long did {n} sleep?",
        "The shop opens at {a} and closes at {b}. How long is it open?",
        "A class begins at {a} and finishes at {b}. How long is the class?",
        "The pump ran from {a} until {b}. For how long did it run?",
        "Parking from {a} to {b}: how long was the car parked?",
        "Elapsed time between {a} and {b}?", "If I start at {a} and finish at {b}, how long did it take?",
        "{n} left {p} at {a} and arrived at {b}. How long did the journey take?",
        "Duration from {a} to {b}?",
    ])
    q = words.vary_case(rng, words.cap(tpl.format(a=a, b=b, n=n, p=rng.choice(PLACES))))
    (h1, m1), (h2, m2) = divmod(t1, 60), divmod(t2, 60)
    dh, dm = divmod(d, 60)
    lines = [x for x in (ca, cb) if x] + [f"{hm(h2, m2)}-{hm(h1, m1)}"]
    if m2 >= m1:
        lines.append(f"{hm(h2, m2)}-{hm(h1, m1)}={hm(dh, dm)}")
    else:  # borrow an hour first so the minute subtraction never goes negative
        lines += [f"{hm(h2, m2)}={h2 - 1}:{m2 + 60}", f"{h2 - 1}:{m2 + 60}-{hm(h1, m1)}={hm(dh, dm)}"]
    return q, "\n".join(lines), f"{dh} h {dm} min"


def end_q(rng, tpls=None, round_times=False):
    while True:
        t1 = rng.randint(0, 23 * 60 + 50)
        d = rng.randint(1, 600) if rng.random() < 0.3 else rng.randint(5, 240)
        if round_times and rng.random() < 0.5:
            t1 -= t1 % 60
        if t1 + d < 24 * 60:
            break
    a, ca = clock_text(rng, t1)
    ds, cd = dur_text(rng, d)
    n = words.name(rng)
    tpl = rng.choice(tpls or [
        "A meeting starts at {a} and lasts {d}. When does it end?",
        "A train leaves at {a} and the trip takes {d}. When does it arrive?",
        "{n} starts cooking at {a} and cooks for {d}. When is the food ready?",
        "What time is it {d} after {a}?", "What time will it be {d} after {a}?",
        "If it is {a} now, what time will it be in {d}?", "Add {d} to {a}.", "{a} plus {d} is what time?",
        "{a} + {d} = ?", "A film that starts at {a} runs for {d}. What time does it finish?",
        "{n} parks at {a} for {d}. When must {n} leave?", "The oven timer is set at {a} for {d}. When does it ring?",
        "A shift begins at {a} and lasts {d}. At what time does it end?",
        "{n} leaves at {a} and walks for {d}. What time does {n} arrive?",
        "The backup starts at {a} and takes {d}. When is it done?",
    ])
    q = words.vary_case(rng, words.cap(tpl.format(a=a, d=ds, n=n)))
    h1, m1 = divmod(t1, 60)
    dh, dm = divmod(d, 60)
    h2, m2 = divmod(t1 + d, 60)
    hs, ms = h1 + dh, m1 + dm
    lines = [x for x in (ca, cd) if x and x.split("=")[0] != x.split("=")[1]] + [f"{hm(h1, m1)}+{hm(dh, dm)}"]
    lines.append(f"{hm(h1, m1)}+{hm(dh, dm)}={hs}:{ms:02d}")
    if ms >= 60:
        lines.append(f"{hs}:{ms}={hm(h2, m2)}")
    return q, "\n".join(lines), hm(h2, m2)


def start_q(rng, tpls=None, round_times=False):
    while True:
        t2 = rng.randint(0, 23 * 60 + 59)
        d = rng.randint(5, 300)
        if round_times and rng.random() < 0.5:
            t2 -= t2 % 60
        if t2 - d >= 0:
            break
    t1 = t2 - d
    b, cb = clock_text(rng, t2)
    ds, cd = dur_text(rng, d)
    n = words.name(rng)
    tpl = rng.choice(tpls or [
        "A film ends at {b} and runs for {d}. When did it start?", "What time was it {d} before {b}?",
        "{n} must arrive by {b} and the trip takes {d}. When must {n} leave?",
        "A meeting that lasted {d} ended at {b}. When did it begin?", "{b} minus {d} is what time?",
        "{b} - {d} = ?", "Subtract {d} from {b}.", "The bread is done at {b} after baking for {d}. When did it go in?",
        "{d} before {b} is what time?",
    ])
    q = words.vary_case(rng, words.cap(tpl.format(b=b, d=ds, n=n)))
    (h1, m1), (h2, m2), (dh, dm) = divmod(t1, 60), divmod(t2, 60), divmod(d, 60)
    lines = [x for x in (cb, cd) if x and x.split("=")[0] != x.split("=")[1]] + [f"{hm(h2, m2)}-{hm(dh, dm)}"]
    if m2 >= dm:
        lines.append(f"{hm(h2, m2)}-{hm(dh, dm)}={hm(h1, m1)}")
    else:
        lines += [f"{hm(h2, m2)}={h2 - 1}:{m2 + 60}", f"{h2 - 1}:{m2 + 60}-{hm(dh, dm)}={hm(h1, m1)}"]
    return q, "\n".join(lines), hm(h1, m1)


def time_family(rng):
    r = rng.random()
    return duration_q(rng) if r < 0.45 else end_q(rng) if r < 0.82 else start_q(rng)
