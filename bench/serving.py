"""Serving throughput of the zoo's exported SavedModels, as TF Serving calls them.

For each trained work directory with an `export/`, loads the SavedModel in
this process (`tf.saved_model.load`, the `serving_default` signature) and
times it on real test texts: batches of `--batch` texts (texts/s) and single
texts (milliseconds per request). Training throughput comes from the run's
`metrics.json` (examples or words per second of `fit`).

    python bench/serving.py runs/sentiment_zh runs/pos_zh runs/lm_ptb
"""

import argparse
import json
import os
import statistics
import time

import zoo


def test_texts(name, config):
    """Real inputs of the model's test split (LM: the first 5 words of sentences)."""
    if name == "lm_ptb":
        from keras_seq.datasets import load_penn_treebank

        return [" ".join(s.split()[:5]) for s in load_penn_treebank().test.inputs]
    return list(zoo.module(name).train.load_data(config).test.inputs)


def timed(served, texts, repeats):
    served(texts)  # warm-up: not timed
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        served(texts)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdirs", nargs="+")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    for workdir in args.workdirs:
        for needed in ("metrics.json", "export"):
            if not os.path.exists(os.path.join(workdir, needed)):
                parser.error(
                    f"{workdir} has no {needed}: expected the work directory of a "
                    "finished `python -m zoo train` run (`python -m zoo export` "
                    "writes export/)."
                )
    print(
        "| model | training (fit) | serving batch of "
        f"{args.batch}: texts/s | serving one text: ms |"
    )
    print("|---|---|---|---|")
    for workdir in args.workdirs:
        with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
            metrics = json.load(f)
        name = metrics["model"]
        settings = {k: v for k, v in metrics["config"].items() if k != "name"}
        config = zoo.config(name, **settings)
        # train_seconds are of the last process: a resumed run's epochs after
        # it resumed.
        epochs = metrics["epochs_run"] - metrics.get("resumed_at_epoch", 0)
        if "train_words" in metrics:
            words = metrics["train_words"] * epochs
            training = f"{words / metrics['train_seconds']:,.0f} words/s"
        else:
            rate = metrics.get("train_examples_per_second")
            if rate is None:  # metrics.json of an older run
                rate = metrics["sizes"]["train"] * epochs / metrics["train_seconds"]
            training = f"{rate:,.0f} examples/s"
        served = zoo.load(os.path.join(workdir, "export"))
        texts = test_texts(name, config)[: args.batch]
        batch_seconds = timed(served, texts, args.repeats)
        one_seconds = timed(served, texts[:1], args.repeats)
        print(
            f"| {name} | {training} | {len(texts) / batch_seconds:,.0f} "
            f"| {one_seconds * 1e3:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
