"""A small made-up German -> English TSV for the seq2seq tutorial's test.

Sentences "subject verb number adjective noun ." with their word-by-word
English translation (the adjective and noun inflect with the number), so a
small model learns it in a minute and BLEU says whether decoding works.
"""

import random

SUBJECTS = {"ich": "i", "du": "you", "wir": "we", "sie": "they"}
VERBS = {
    "sehe": "see",
    "kaufe": "buy",
    "suche": "look for",
    "male": "paint",
}
NUMBERS = {"zwei": "two", "drei": "three", "vier": "four", "fünf": "five"}
ADJECTIVES = {"rote": "red", "kleine": "small", "alte": "old", "neue": "new"}
NOUNS = {
    "hunde": "dogs",
    "katzen": "cats",
    "häuser": "houses",
    "bücher": "books",
    "autos": "cars",
}
# Verb forms by subject: the German verb agrees, the English one does not.
FORMS = {"ich": "e", "du": "st", "wir": "en", "sie": "en"}


def pairs(count, seed=0):
    """`count` distinct (German, English) sentence pairs."""
    rng = random.Random(seed)
    seen = {}
    while len(seen) < count:
        subject = rng.choice(sorted(SUBJECTS))
        verb = rng.choice(sorted(VERBS))
        number = rng.choice(sorted(NUMBERS))
        adjective = rng.choice(sorted(ADJECTIVES))
        noun = rng.choice(sorted(NOUNS))
        german = " ".join(
            [subject, verb[:-1] + FORMS[subject], number, adjective, noun]
        )
        english = " ".join(
            [
                SUBJECTS[subject],
                VERBS[verb],
                NUMBERS[number],
                ADJECTIVES[adjective],
                NOUNS[noun],
            ]
        )
        seen[german.capitalize() + "."] = english.capitalize() + "."
    return sorted(seen.items())


def write_tsv(path, count=800, seed=0):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{german}\t{english}\n" for german, english in pairs(count, seed))
    return path
