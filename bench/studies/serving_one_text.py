"""One text a request: two exports of one sentiment run, interleaved.

Serves the first `--texts` test reviews of the run's data one at a time
through each SavedModel's `serving_default` (as TF Serving calls it),
alternating the two so that a machine's drift weighs on both alike, and
prints each one's median and mean milliseconds, the ratio of the medians
(second / first) and the largest difference of their probabilities.

    python -m zoo train sentiment_zh --workdir runs/sentiment_zh
    cp -r runs/sentiment_zh runs/sentiment_zh_padded   # then, at commit 6d4da30:
    python -m zoo export sentiment_zh --workdir runs/sentiment_zh_padded
    python bench/studies/serving_one_text.py runs/sentiment_zh runs/sentiment_zh_padded
"""

import argparse
import json
import os
import statistics
import time

import numpy as np
import tensorflow as tf

import zoo


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdirs", nargs=2)
    parser.add_argument("--texts", type=int, default=300)
    args = parser.parse_args()
    with open(os.path.join(args.workdirs[0], "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    settings = {k: v for k, v in metrics["config"].items() if k != "name"}
    config = zoo.config(metrics["model"], **settings)
    texts = list(zoo.module(metrics["model"]).train.load_data(config).test.inputs)
    texts = texts[: args.texts]
    served = [
        tf.saved_model.load(os.path.join(w, "export")).signatures["serving_default"]
        for w in args.workdirs
    ]
    seconds = [[], []]
    difference = 0.0
    for text in texts:
        request = tf.constant([text])
        answers = []
        for i, signature in enumerate(served):
            start = time.perf_counter()
            answers.append(signature(texts=request)["probabilities"].numpy())
            seconds[i].append(time.perf_counter() - start)
        difference = max(difference, float(np.abs(answers[0] - answers[1]).max()))
    for workdir, times in zip(args.workdirs, seconds):
        print(
            f"{workdir}: median {1e3 * statistics.median(times):.2f} ms, "
            f"mean {1e3 * np.mean(times):.2f} ms"
        )
    ratio = statistics.median(seconds[1]) / statistics.median(seconds[0])
    print(f"median, second / first: {ratio:.2f}")
    print(f"largest difference of the probabilities: {difference:.1e}")
    print(f"median length: {statistics.median(len(t) for t in texts)} characters")


if __name__ == "__main__":
    main()
