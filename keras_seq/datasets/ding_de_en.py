"""German -> English sentence pairs from the Ding dictionary (`trans-de-en`)."""

import os
import re

from keras_seq.datasets.split import split_examples

INSTALL = "apt-get install -y trans-de-en"
PATH = "/usr/share/trans/de-en"
# `{f}` (gender), `[Br.]` (region, field): annotations, not words.
_ANNOTATION = re.compile(r"\{[^}]*\}|\[[^\]]*\]")


_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.?!,:])")
_END_MARK = re.compile(r"[.?!]")


def _clean(entry):
    """The first `;`-separated variant, without annotations or extra spaces."""
    text = " ".join(_ANNOTATION.sub("", entry).split(";")[0].split())
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)


def parse_ding_line(line):
    """The example-sentence pairs of one dictionary line.

    A line is `German :: English`; each side holds sub-entries separated by
    ` | `, aligned one to one. Kept: aligned sub-entries that end in `.`, `?`
    or `!` on both sides, with at least 3 English words.
    """
    if line.startswith("#") or " :: " not in line:
        return []
    german, english = line.rstrip("\n").split(" :: ", 1)
    sources, targets = german.split(" | "), english.split(" | ")
    if len(sources) != len(targets):
        return []
    pairs = []
    for source, target in zip(sources, targets):
        # Cleaning only removes characters: a side without any end mark stays
        # without one (most sub-entries are words; this skips cleaning them).
        if not (_END_MARK.search(source) and _END_MARK.search(target)):
            continue
        source, target = _clean(source), _clean(target)
        if (
            source[-1:] in (".", "?", "!")
            and target[-1:] in (".", "?", "!")
            and len(target.split()) >= 3
        ):
            pairs.append((source, target))
    return pairs


def load_ding_de_en(path=PATH, fractions=(0.8, 0.1, 0.1), seed=0):
    """German example sentences and their English translations.

    Every pair of `parse_ding_line` over the dictionary, deduplicated; a
    German sentence with several translations keeps the first in sorted
    order, so that no source sentence is in two splits (19,794 pairs from
    the Debian package's 2023-01-30 dictionary). Sorted, shuffled with
    `seed` and split by `fractions` (test: 1,979 pairs with the defaults).

    Returns:
        `Splits` with German `inputs` and English `targets` (strings).
    """
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"The Ding German-English dictionary is not at {path}. Install it "
            f"with: {INSTALL}"
        )
    translations = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            for source, target in parse_ding_line(line):
                translations.setdefault(source, set()).add(target)
    sources = sorted(translations)
    targets = [min(translations[s]) for s in sources]
    return split_examples(
        sources,
        targets,
        fractions,
        seed,
        description=(
            f"Ding dictionary ({path}): {len(sources)} German example sentences "
            f"with their English translation (first in sorted order), shuffled "
            f"with seed {seed}, split {fractions}."
        ),
    )
