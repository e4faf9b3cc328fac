"""sentiment_zh vs snownlp's own naive Bayes, both trained on the same split.

Trains the zoo's `sentiment_zh` (preset `default`, character BiGRU with
attention pooling) and retrains snownlp's naive Bayes sentiment classifier on
the same training split of the snownlp reviews (keras_seq.datasets,
deduplicated, seed 0, 80/10/10), and prints both test accuracies.

    python bench/sentiment_zh.py [--preset default] [--workdir runs/bench_sentiment_zh]
"""

import argparse
import time

import zoo
from zoo.sentiment_zh import train


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--workdir", default="runs/bench_sentiment_zh")
    args = parser.parse_args()
    config = zoo.config("sentiment_zh", args.preset)
    metrics = train.train_and_evaluate(config, args.workdir)
    start = time.perf_counter()
    baseline = train.naive_bayes_baseline(train.load_data(config))
    baseline_seconds = time.perf_counter() - start
    print(metrics["data"])
    print("| classifier | test accuracy | train + test seconds |")
    print("|---|---|---|")
    print(
        f"| keras_seq sentiment_zh ({args.preset}, {metrics['epochs_run']} epochs) "
        f"| {metrics['test_accuracy']:.3f} | {metrics['train_seconds']:.0f} |"
    )
    print(
        f"| snownlp naive Bayes (retrained) | {baseline:.3f} | {baseline_seconds:.0f} |"
    )


if __name__ == "__main__":
    main()
