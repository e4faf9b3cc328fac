"""Clear reviews a person writes: does a trained `sentiment_zh` get them right?

`bench/studies/data/sentiment_zh_probe.tsv` holds 48 short Chinese reviews
(24 positive, 24 negative) written for this probe, none of them in the
corpus (`tests/bench/test_sentiment_probe.py` checks that), and never used
to train or tune a model. Each says plainly what its writer thinks; among
them are negations ("没有任何异味", "不是一般的好看") and the "cannot stop
playing" construction of the course notes' example ("一玩就停不下来").
The script scores the `model.keras` of each work directory on them, and
snownlp's own naive Bayes (trained on the same corpus) for comparison,
then prints every review a model gets wrong and its answer to the course
example.

Choices between settings are made on a second set written the same way,
`bench/studies/data/sentiment_zh_dev.tsv` (48 other reviews, other
products: `--probe dev`), so that the probe itself is never tuned on.

The figures of the probe go to the results file `sentiment_zh_probe.json`
in `bench/results/` (`--results PATH`, `''` for none; the dev set's are
not written): for each work directory, its accuracy on the probe beside
snownlp's (target: at least 0.95) and its P(positive) of the course
example (target: above 0.5).

    python bench/studies/sentiment_probe.py runs/sentiment_zh [more workdirs] [--probe dev]
"""

import argparse
import csv
import importlib.util
import os
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from results import add_argument, measure, write

PROBE = pathlib.Path(__file__).parent / "data" / "sentiment_zh_probe.tsv"
DEV = PROBE.with_name("sentiment_zh_dev.tsv")
LABELS = ("negative", "positive")
# Issue-level targets of the `default` preset, every seed.
PROBE_AT_LEAST = 0.95
COURSE_AT_LEAST = 0.5


def read_probe(path=PROBE):
    """`(texts, labels)`: the reviews and 0 (negative) / 1 (positive)."""
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for number, row in enumerate(rows, 2):
        if row["label"] not in LABELS:
            raise ValueError(
                f"{path}:{number}: expected a label in {list(LABELS)}, got "
                f"{row['label']!r}."
            )
    return [row["text"] for row in rows], np.array(
        [LABELS.index(row["label"]) for row in rows]
    )


def model_positive(workdir, texts):
    """P(positive) of each text by the `model.keras` of `workdir`."""
    import zoo
    from zoo.sentiment import serve

    model = zoo.load(os.path.join(workdir, "model.keras"))
    names = list(serve.saved_label_names(workdir))
    return serve.predict(model, texts)[:, names.index("positive")]


def networks_positive(workdir, texts):
    """P(positive) of each text by each network of the `model.keras` of
    `workdir` (one for a run of one network; `members` for several):
    `(networks, texts)`."""
    import keras
    import tensorflow as tf

    import zoo
    from zoo.sentiment import serve

    model = zoo.load(os.path.join(workdir, "model.keras"))
    names = list(serve.saved_label_names(workdir))
    classifier = model.layers[-1]
    outputs = [
        layer.output
        for layer in classifier.layers
        if layer.name.startswith("probabilities")
    ]
    each = keras.Model(classifier.input, outputs)
    ids = model.get_layer("tokens")(tf.constant(list(texts)))
    probabilities = each.predict(ids, batch_size=256, verbose=0)
    if len(outputs) == 1:
        probabilities = [probabilities]
    return np.array([p[:, names.index("positive")] for p in probabilities])


def snownlp_positive(texts):
    """P(positive) by snownlp's naive Bayes (its shipped model)."""
    from snownlp import SnowNLP

    return np.array([SnowNLP(text).sentiments for text in texts])


def report(name, positive, texts, labels):
    """Prints the accuracy on the probe, the mistakes and P(positive) of the
    course example (`positive`'s last entry); returns those two numbers."""
    predicted = (positive[: len(texts)] > 0.5).astype(int)
    accuracy = float(np.mean(predicted == labels))
    print(f"{name}: {np.sum(predicted == labels)}/{len(texts)} = {accuracy:.3f}")
    for k in np.flatnonzero(predicted != labels):
        print(
            f"  wrong: P(positive) {positive[k]:.2f}, {LABELS[labels[k]]}: {texts[k]}"
        )
    print(f"  course example: P(positive) {positive[-1]:.2f}")
    return accuracy, float(positive[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdirs", nargs="*", help="trained sentiment_zh workdirs")
    parser.add_argument(
        "--probe",
        choices=["probe", "dev"],
        default="probe",
        help="the held-out probe, or the set settings are chosen on",
    )
    add_argument(parser, "sentiment_zh_probe")
    args = parser.parse_args(argv)
    from zoo.sentiment.train import NOTES_REVIEW

    texts, labels = read_probe(PROBE if args.probe == "probe" else DEV)
    results = {}
    for workdir in args.workdirs:
        positive = model_positive(workdir, [*texts, NOTES_REVIEW])
        results[workdir] = report(workdir, positive, texts, labels)
    if importlib.util.find_spec("snownlp") is not None:
        positive = snownlp_positive([*texts, NOTES_REVIEW])
        results["snownlp"] = report("snownlp naive Bayes", positive, texts, labels)
    if args.probe == "probe" and args.workdirs:
        write(
            args.results,
            "Zoo: `sentiment_zh` on the hand-written probe "
            "(`bench/studies/sentiment_probe.py`)",
            rows(args.workdirs, results, len(texts)),
            notes=(
                f"{len(texts)} reviews written for the probe "
                "(`bench/studies/data/sentiment_zh_probe.tsv`), never trained "
                "or tuned on; the course example is the course notes' review."
            ),
            argv=None if argv is None else ["bench/studies/sentiment_probe.py", *argv],
        )
    return results


def rows(workdirs, results, count):
    """The results-file rows: each run's probe accuracy (snownlp's beside
    it) and its P(positive) of the course example, with the targets."""
    import zoo

    snownlp = results.get("snownlp")
    measures = []
    for workdir in workdirs:
        # The targets are the `default` preset's (any seed).
        config = zoo.recorded_config("sentiment_zh", workdir)
        default = config is not None and config == zoo.config(
            "sentiment_zh", seed=config.seed
        )
        name = os.path.basename(os.path.normpath(workdir))
        if default:
            name = f"`default`, seed {config.seed}"
        accuracy, course = results[workdir]
        measures.append(
            measure(
                f"{name}: probe accuracy ({round(accuracy * count)} of {count})",
                round(accuracy, 4),
                peer=None if snownlp is None else "snownlp naive Bayes (shipped)",
                peer_value=None if snownlp is None else round(snownlp[0], 4),
                target={"on": "value", "at_least": PROBE_AT_LEAST} if default else None,
            )
        )
        measures.append(
            measure(
                f"{name}: course example, P(positive)",
                round(course, 4),
                target={"on": "value", "at_least": COURSE_AT_LEAST}
                if default
                else None,
            )
        )
    return measures


if __name__ == "__main__":
    main()
