"""`sentiment_en` under other training settings, chosen by validation accuracy.

Trains the default `sentiment_en` preset with each override below on the
seed-0 split (8 epochs at most, early stopping patience 3, best epoch on
validation kept) and prints its best validation accuracy beside its test
accuracy. Pick by validation only; the test column is for the record.

    python bench/studies/sentiment_settings.py [--workdir runs/sentiment_settings]
"""

import argparse
import dataclasses
import os

import zoo
from zoo.sentiment import train

SETTINGS = [
    {},
    {"learning_rate": 1e-3},
    {"learning_rate": 1e-3, "dropout": 0.5},
    {"dropout": 0.5},
    {"dropout": 0.5, "clipnorm": 5.0},
    {"learning_rate": 1e-3, "embedding_dim": 128, "dropout": 0.5},
    {"learning_rate": 1e-3, "ngrams": 1},
    {"learning_rate": 1e-3, "batch_size": 64},
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="runs/sentiment_settings")
    args = parser.parse_args()
    print("| overrides of the default | best valid | test | epochs | seconds |")
    print("|---|---|---|---|---|")
    for overrides in SETTINGS:
        config = dataclasses.replace(
            zoo.config("sentiment_en", "default"), epochs=8, patience=3, **overrides
        )
        metrics = train.train_and_evaluate(config, os.path.join(args.workdir, "run"))
        described = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "(none)"
        print(
            f"| {described} | {max(metrics['history']['val_accuracy']):.3f} "
            f"| {metrics['test_accuracy']:.3f} | {metrics['epochs_run']} "
            f"| {metrics['train_seconds']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
