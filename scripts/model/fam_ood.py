"""Questions outside the four families (issue 15): the model answers `unsupported`.

General knowledge, chit-chat, code, other tasks, and operations the model does not do
(division, powers, roots, percentages, decimals in arithmetic, algebra, dates). The trace is one
fixed line; the answer is the fixed word UNSUPPORTED, documented in docs/models.md.
"""
import words

UNSUPPORTED = "unsupported"
TRACE = "not a task I can do"

COUNTRIES = ["France", "Japan", "Brazil", "Kenya", "Canada", "Italy", "Norway", "Peru", "Egypt", "India", "Chile", "Spain"]
CITIES = ["Paris", "Tokyo", "Lagos", "Berlin", "Lima", "Oslo", "Cairo", "Sydney", "Toronto", "Madrid", "Delhi", "Rome"]
TOPICS = ["the ocean", "love", "autumn", "cats", "space travel", "the moon", "friendship", "coffee", "rain", "robots",
          "history", "football", "music", "climate change", "bees"]
LANGS = ["Python", "JavaScript", "Rust", "C", "Go", "Bash", "SQL", "Java", "TypeScript"]
CODE_TASKS = ["reverses a string", "sorts a list", "reads a CSV file", "checks if a number is prime", "parses JSON",
              "sends an HTTP request", "counts words in a file", "merges two dictionaries", "finds the largest element"]
SNIPPETS = ["for i in range(10): print(i)", "x = [1, 2, 3]; x.append(4)", "console.log(a + b)", "SELECT * FROM users;",
            "int main() { return 0; }", "ls -la | grep txt", "def f(x): return x * 2", "git rebase -i HEAD~3"]
PHRASES = ["good morning", "thank you", "where is the station", "I love you", "see you tomorrow", "how are you"]


def ood(rng):
    a, b = rng.randint(2, 999), rng.randint(2, 99)
    n = words.name(rng)
    c = rng.choice(COUNTRIES)
    kind = rng.randrange(6)
    if kind == 0:  # general knowledge
        q = rng.choice([f"What is the capital of {c}?", f"Who is the president of {c}?", f"What language is spoken in {c}?",
                        f"What is the population of {rng.choice(CITIES)}?", "Who wrote Hamlet?", "Who painted the Mona Lisa?",
                        "Why is the sky blue?", "How far away is the moon?", "What is photosynthesis?",
                        "What is the boiling point of water?", "How many legs does a spider have?", "What does DNA stand for?",
                        f"When was {rng.choice(CITIES)} founded?", "Which planet is the largest?", "Who invented the telephone?",
                        f"What is the currency of {c}?", "What is the speed of light?", "How tall is Mount Everest?",
                        f"Tell me about {rng.choice(TOPICS)}.", f"What is {rng.choice(TOPICS)}?", "Who won the World Cup in 2018?",
                        f"How do I get from {rng.choice(CITIES)} to {rng.choice(CITIES)}?", "What is the largest ocean?",
                        "What is the chemical symbol for gold?", "How many continents are there?", f"Where is {rng.choice(CITIES)}?"])
    elif kind == 1:  # chit-chat
        q = rng.choice(["Hello!", "Hi, how are you?", "Tell me a joke.", "What's your name?", "Thanks!", "Good morning",
                        "Can you help me?", "I feel sad today.", f"What do you think about {rng.choice(TOPICS)}?", "Who are you?",
                        "Are you a robot?", "hey", "What can you do?", "Do you like music?", "Goodbye!", "ok", "yes",
                        "Nice to meet you.", f"My name is {n}.", "What is the meaning of life?", "Are you there?",
                        "Sing me a song.", "What should I eat tonight?", "Do you dream?", "lol", "test", "?"])
    elif kind == 2:  # code
        lang = rng.choice(LANGS)
        q = rng.choice([f"Write a {lang} function that {rng.choice(CODE_TASKS)}.", f"How do I write a loop in {lang}?",
                        f"Fix this code: {rng.choice(SNIPPETS)}", f"What does `{rng.choice(SNIPPETS)}` do?",
                        rng.choice(SNIPPETS), f"Explain recursion in {lang}.", f"How do I install {lang}?",
                        f"Write a regex that matches an email address.", f"Convert this to {lang}: {rng.choice(SNIPPETS)}",
                        "What is a pointer?", "How does TCP work?", "What is the difference between a list and a tuple?"])
    elif kind == 3:  # operations and number tasks the model does not do
        p = rng.choice([5, 10, 15, 20, 25, 50, 75])
        q = rng.choice([f"What is {a} / {b}?", f"{a} divided by {b}?", f"What is {a} ÷ {b}?", f"Divide {a} by {b}.",
                        f"What is {b}^{rng.randint(2, 5)}?", f"What is {b} to the power of {rng.randint(2, 5)}?",
                        f"What is the square root of {a}?", f"sqrt({a})?", f"What is {p}% of {a}?", f"What is {a} mod {b}?",
                        f"What is {b}!?", f"What is log({a})?", f"Solve x + {b} = {a}.", f"If 2x = {2 * b}, what is x?",
                        f"What is {a}.{rng.randint(1, 9)} + {b}.{rng.randint(1, 9)}?", f"Is {a} a prime number?",
                        f"What is {a} in binary?", f"Convert {b} km to miles.", f"Convert {b} °F to °C.",
                        f"How many days are in {rng.choice(['February', 'a leap year', 'March'])}?",
                        f"What day of the week is {rng.randint(1, 28)} {rng.choice(['May', 'June', 'July'])} {rng.randint(1990, 2030)}?",
                        f"What is the derivative of x^{rng.randint(2, 5)}?", f"Round {a}.{rng.randint(10, 99)} to the nearest ten.",
                        f"What is 1/{rng.randint(2, 9)} + 1/{rng.randint(2, 9)}?", f"What is the integral of {b}x?",
                        f"Factor {a}.", f"What is the GCD of {a} and {b}?", f"What is {a} squared?", f"Simplify {b}/{a}."])
    elif kind == 4:  # other tasks
        q = rng.choice([f"Translate '{rng.choice(PHRASES)}' into {rng.choice(['French', 'German', 'Spanish', 'Japanese'])}.",
                        f"Write a poem about {rng.choice(TOPICS)}.", f"Summarize this: {n} went to the market and bought bread.",
                        f"What's the weather in {rng.choice(CITIES)}?", "What time is it now?", "What is today's date?",
                        f"Write an email to {n} about the meeting.", f"Give me a recipe for {rng.choice(['soup', 'bread', 'curry'])}.",
                        f"Recommend a book about {rng.choice(TOPICS)}.", "Set an alarm for 7 am.", "Turn on the lights.",
                        f"Spell '{rng.choice(TOPICS)}' backwards.", f"How many letters are in '{n}'?", "List three colours.",
                        "Reboot the server.", "Send the report to my boss.", f"Book a table for {rng.randint(2, 8)}."])
    else:  # near the families, but asking something they cannot answer
        q = rng.choice([f"{n} has {a} apples. What colour are they?", f"{n} is taller than {words.name(rng)}. Where does {n} live?",
                        f"A train leaves at {rng.randint(1, 12)}:{rng.randint(10, 59)}. Where does it go?",
                        f"{n} has {b} books. Which one is the best?", f"Readings: {b}, {b + 3}, {b + 1}. Which sensor is broken?",
                        f"Is {n} a nice person?", f"Who is older, the Sun or the Moon?", f"What is {n}'s phone number?",
                        f"How old is {n}?", f"Why is {n} late?", f"The meeting starts at {rng.randint(1, 12)} pm. Who is coming?",
                        f"Temperature readings: {b}, {b + 1}, {b + 2}. Will it rain tomorrow?",
                        f"How many people live in {rng.choice(CITIES)}?", f"What will the temperature be tomorrow?",
                        f"{n} runs faster than {words.name(rng)}. Why?"])
    return words.vary_case(rng, q), TRACE, UNSUPPORTED
