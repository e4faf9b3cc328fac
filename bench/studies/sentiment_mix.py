"""Does mixing a trained `sentiment_zh` with a logistic regression help?

For each work directory (a trained `sentiment_zh`, e.g. the seeds of
`bench/sentiment.py`), prints the accuracy on the validation and test
splits, on the dev set and on the probe of `sentiment_probe.py`, and
P(positive) of the course example, for the network alone and for its
probabilities mixed with those of the multi-hot logistic regression of
`zoo.sentiment.baselines` (the tokens and split of the first work
directory's recorded config) at each `--weights` weight of the regression.
Then the means over the work directories.

`--ensembles K ...` also scores the average of the probabilities of every
K of the work directories (no regression): the mean and range over those
subsets, what a model averaging K trained networks would score. With
`--networks`, each network of a run of several (`members`) counts as one:
the five runs of `bench/sentiment.py --seeds 5 --set members=3` give 15
networks (at most `--subsets` subsets of each size, drawn at random, are
scored).

    python bench/studies/sentiment_mix.py runs/bench_sentiment/sentiment_zh/seed{0,1,2,3,4}
    python bench/studies/sentiment_mix.py runs/bench_sentiment/sentiment_zh/seed{0,1,2,3,4} --weights 0 --ensembles 2 3 5
    python bench/studies/sentiment_mix.py runs/bench_members/sentiment_zh/seed{0,1,2,3,4} --networks --weights 0 --ensembles 1 3 4 5 7 15
"""

import argparse
import itertools
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sentiment_probe import DEV, PROBE, networks_positive, read_probe


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdirs", nargs="+", help="trained sentiment_zh workdirs")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.3, 0.5])
    parser.add_argument("--ensembles", type=int, nargs="*", default=[])
    parser.add_argument(
        "--networks",
        action="store_true",
        help="each network of a run of several (members) counts as one",
    )
    parser.add_argument("--subsets", type=int, default=3000)
    args = parser.parse_args(argv)
    count = sum(
        networks_of(workdir) if args.networks else 1 for workdir in args.workdirs
    )
    for size in args.ensembles:
        if not 1 <= size <= count:
            parser.error(
                f"--ensembles: expected sizes from 1 to {count} (the "
                f"{'networks' if args.networks else 'work directories'} given), "
                f"got {size}"
            )
    import zoo
    from zoo.sentiment.baselines import bag_of_words_classifier
    from zoo.sentiment.input_pipeline import load_data
    from zoo.sentiment.train import NOTES_REVIEW

    config = zoo.recorded_config("sentiment_zh", args.workdirs[0])
    if config is None:
        parser.error(
            f"{args.workdirs[0]} holds no finished sentiment_zh run: expected its "
            "metrics.json"
        )
    splits = load_data(config)
    sets = {
        "valid": (list(splits.valid.inputs), np.asarray(splits.valid.targets)),
        "test": (list(splits.test.inputs), np.asarray(splits.test.targets)),
        "dev": read_probe(DEV),
        "probe": read_probe(PROBE),
    }
    classify = bag_of_words_classifier(splits, config)
    linear = {
        name: classify([*texts, NOTES_REVIEW])[:, 1]
        for name, (texts, _) in sets.items()
    }
    # One entry per network (--networks) or per run (its networks averaged).
    scored, names = [], []
    every_text = [text for texts, _ in sets.values() for text in texts]
    for workdir in args.workdirs:
        # One call (one load of the model) for every set's texts.
        positive = networks_positive(workdir, [*every_text, NOTES_REVIEW])
        each, start = {}, 0
        for name, (texts, _) in sets.items():
            end = start + len(texts)
            each[name] = np.concatenate(
                [positive[:, start:end], positive[:, -1:]], axis=1
            )
            start = end
        count = len(each["test"])
        if args.networks:
            scored += [{name: p[k] for name, p in each.items()} for k in range(count)]
            names += [
                workdir if count == 1 else f"{workdir} network {k}"
                for k in range(count)
            ]
        else:
            scored.append({name: p.mean(0) for name, p in each.items()})
            names.append(workdir)
    table = {weight: [] for weight in args.weights}
    networks = []
    for workdir, network in zip(names, scored):
        networks.append(network)
        for weight in args.weights:
            row = []
            for name, (texts, labels) in sets.items():
                mixed = (1 - weight) * network[name] + weight * linear[name]
                row.append(np.mean((mixed[:-1] > 0.5) == labels))
            row.append(mixed[-1])
            table[weight].append(row)
            print(
                f"{workdir}, regression x {weight:g}: "
                + " ".join(
                    f"{name} {value:.4f}"
                    for name, value in zip([*sets, "course P(positive)"], row)
                ),
                flush=True,
            )
    for weight, rows in table.items():
        means = np.mean(rows, axis=0)
        print(
            f"mean of {len(rows)}, regression x {weight:g}: "
            + " ".join(
                f"{name} {value:.4f}"
                for name, value in zip([*sets, "course P(positive)"], means)
            )
        )
    ensembles = {
        size: ensemble_rows(networks, sets, size, args.subsets)
        for size in args.ensembles
    }
    return {"mix": table, "ensembles": ensembles}


def networks_of(workdir):
    """How many networks the run in `workdir` averages (its config's
    `members`; 1 where its metrics.json is missing, refused later)."""
    path = os.path.join(workdir, "metrics.json")
    if not os.path.exists(path):
        return 1
    with open(path, encoding="utf-8") as f:
        return json.load(f)["config"].get("members", 1)


def ensemble_rows(networks, sets, size, subsets=None):
    """One row per `size` of the networks (at most `subsets`, drawn at
    random with seed 0, where there are more): their averaged
    probabilities' accuracy on each set, then P(positive) of the course
    example."""
    rows = []
    chosen = list(itertools.combinations(range(len(networks)), size))
    if subsets and len(chosen) > subsets:
        keep = np.random.default_rng(0).choice(len(chosen), subsets, replace=False)
        chosen = [chosen[i] for i in sorted(keep)]
    for indices in chosen:
        members = [networks[i] for i in indices]
        row = []
        for name, (_, labels) in sets.items():
            positive = np.mean([member[name] for member in members], axis=0)
            row.append(np.mean((positive[:-1] > 0.5) == labels))
        rows.append([*row, positive[-1]])
    names = [*sets, "course P(positive)"]
    low, mean, high = np.min(rows, 0), np.mean(rows, 0), np.max(rows, 0)
    print(
        f"average of {size} of {len(networks)} ({len(rows)} subsets), mean "
        "[min, max]: "
        + " ".join(
            f"{name} {m:.4f} [{lo:.4f}, {hi:.4f}]"
            for name, lo, m, hi in zip(names, low, mean, high)
        )
    )
    return rows


if __name__ == "__main__":
    main()
