"""Batches by length against batches padded to `max_length`, for the sentiment models.

Trains the default `sentiment_zh` (or `--model sentiment_en`) through
`train_and_evaluate` with `--seeds` initial seeds, all on the seed-0 split,
twice each: with the training pipeline's batches of texts of about one
length (`zoo.sentiment.train.batched_by_length`, the default: windows of
2,048 shuffled texts sorted by length, cut into batches, each cut after
its longest text) and with batches in the order of the shuffled texts,
each padded to `max_length` (the pipeline before it). Prints each run's best validation accuracy, test
accuracy and training throughput (`fit`, validation included), then the
means and the ratio of throughputs measured in this run.

    python bench/sentiment_batching.py --seeds 5     # ~25 min on 2 CPU cores
    python bench/sentiment_batching.py --seeds 5 --model sentiment_en
"""

import argparse
import dataclasses
import tempfile

import numpy as np

import zoo
from zoo.sentiment import train

PIPELINES = {
    "by length": train.batched_by_length,
    # The texts in their shuffled order, each padded to `max_length`.
    "max_length": lambda windows, batch_size, ngrams, seed: windows.unbatch().batch(
        batch_size
    ),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--model", choices=["sentiment_zh", "sentiment_en"], default="sentiment_zh"
    )
    args = parser.parse_args()
    load_data = train.load_data
    # One split (seed 0) for every run: the seeds change the initial weights
    # and the order of the batches only.
    train.load_data = lambda config: load_data(dataclasses.replace(config, seed=0))
    results = {name: [] for name in PIPELINES}
    for seed in range(args.seeds):
        for name, pipeline in PIPELINES.items():
            train.batched_by_length = pipeline
            config = zoo.config(args.model, "default", seed=seed)
            with tempfile.TemporaryDirectory() as workdir:
                metrics = train.train_and_evaluate(config, workdir)
            row = (
                max(metrics["history"]["val_accuracy"]),
                metrics["test_accuracy"],
                metrics["train_examples_per_second"],
            )
            results[name].append(row)
            print(
                f"seed {seed}, {name}: valid {row[0]:.4f} test {row[1]:.4f} "
                f"{row[2]:.0f} examples/s ({metrics['epochs_run']} epochs)",
                flush=True,
            )
    means = {name: np.mean(rows, axis=0) for name, rows in results.items()}
    for name, (valid, test, speed) in means.items():
        print(f"mean, {name}: valid {valid:.4f} test {test:.4f} {speed:.0f} examples/s")
    ratio = means["by length"][2] / means["max_length"][2]
    print(f"training throughput, by length / max_length: {ratio:.2f}")


if __name__ == "__main__":
    main()
