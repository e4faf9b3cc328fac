"""The zoo's sentiment models beside classic baselines trained on the same split.

Trains the preset with `--seeds` seeds (the split stays the seed-0 80/10/10
split of keras_seq.datasets: `split_seed` 0), then on the same split a
bag-of-words (tokens + bigrams, the model's own) logistic regression and,
for `sentiment_zh`, snownlp's own naive Bayes classifier retrained. Prints
a Markdown table (each seed, the models' mean, the baselines, the mean's
lead over the best baseline) and writes it with every run's metrics to
`WORKDIR/results.json`.

    python bench/sentiment.py [--models sentiment_zh sentiment_en] [--preset default] [--seeds 5]
        [--set FIELD=VALUE ...]

`--set` replaces fields of the preset's config for every model trained
(e.g. `--set members=1`); the results name those that change the preset,
and the targets apply to the default preset unchanged.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

import zoo
from zoo.sentiment import baselines, input_pipeline, train

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import add_argument, write
from results import measure as result_row

# The target of the Chinese model's mean test accuracy (default preset).
TARGETS = {"sentiment_zh": {"on": "value", "at_least": 0.86}}

BASELINES = {
    "sentiment_zh": {
        "snownlp naive Bayes (retrained)": lambda splits, config: (
            baselines.naive_bayes_baseline(splits)
        ),
        "bag-of-words logistic regression": baselines.bag_of_words_baseline,
    },
    "sentiment_en": {
        "bag-of-words logistic regression": baselines.bag_of_words_baseline,
    },
}


def measure(name, preset, seeds, workdir, settings=()):
    """Rows `(classifier, test accuracy, seconds)` and every run's metrics.

    `settings`: `FIELD=VALUE` strings replacing fields of the preset's config.
    """
    rows, runs = [], []
    overrides = zoo.parse_overrides(name, preset, settings)
    for seed in range(seeds):
        config = zoo.config(name, preset, **{**overrides, "seed": seed})
        metrics = train.train_and_evaluate(config, os.path.join(workdir, f"seed{seed}"))
        runs.append(metrics)
        rows.append(
            (
                f"keras_seq `{preset}`, seed {seed} ({metrics['epochs_run']} epochs)",
                metrics["test_accuracy"],
                metrics["train_seconds"],
            )
        )
    mean = float(np.mean([run["test_accuracy"] for run in runs]))
    if seeds > 1:
        rows.append((f"keras_seq `{preset}`, mean of {seeds} seeds", mean, None))
    alone = networks_alone(runs)
    if alone:
        rows.append(
            (
                f"keras_seq `{preset}`, each of its networks alone: mean of {len(alone)}",
                float(np.mean(alone)),
                None,
            )
        )
    config = zoo.config(name, preset)
    splits = input_pipeline.load_data(config)
    best = 0.0
    for baseline_name, baseline in BASELINES[name].items():
        start = time.perf_counter()
        accuracy = baseline(splits, config)
        rows.append((baseline_name, accuracy, time.perf_counter() - start))
        best = max(best, accuracy)
    return rows, runs, mean - best


def networks_alone(runs):
    """Each network's own test accuracy, of runs of several (`members`)."""
    return [
        member["test_accuracy"] for run in runs for member in run.get("members", [])
    ]


def results_path(default, models, changes):
    """The results file of a run of `models` with the settings `changes`:
    `default` for both models unchanged, else one file per set of models
    and settings, so that a run of one keeps the other's
    (`sentiment_en.json` for `--models sentiment_en`,
    `sentiment_zh_members3.json` with `--set members=3`)."""
    if sorted(models) == sorted(BASELINES) and not changes:
        return default
    words = list(models) + [c.replace("=", "").replace(".", "_") for c in changes]
    return os.path.join(os.path.dirname(default), "_".join(words) + ".json")


def changed_settings(name, preset, settings):
    """The `FIELD=VALUE` settings that change a field of the preset's config
    (`members=3` where the preset has 3 changes nothing)."""
    config = zoo.config(name, preset)
    changed = []
    for setting in settings:
        ((field, value),) = zoo.parse_overrides(name, preset, [setting]).items()
        if getattr(config, field) != value:
            changed.append(setting)
    return changed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=sorted(BASELINES))
    parser.add_argument("--preset", default="default")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--workdir", default="runs/bench_sentiment")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="replace a field of the preset's config (repeatable)",
    )
    add_argument(parser, "sentiment")
    args = parser.parse_args()
    try:  # before any training: a --set the config refuses
        changed = {
            name: changed_settings(name, args.preset, args.set) for name in args.models
        }
    except ValueError as error:
        parser.error(str(error))
    every_change = list(dict.fromkeys(c for name in args.models for c in changed[name]))
    if args.results == parser.get_default("results"):
        args.results = results_path(args.results, args.models, every_change)
    if args.seeds < 1:
        parser.error(f"--seeds: expected a positive integer, got {args.seeds}")
    results, recorded = {}, []
    print("| model | classifier | test accuracy | seconds |")
    print("|---|---|---|---|")
    for name in args.models:
        rows, runs, lead = measure(
            name, args.preset, args.seeds, os.path.join(args.workdir, name), args.set
        )
        for classifier, accuracy, seconds in rows:
            time_text = "" if seconds is None else f"{seconds:.0f}"
            print(f"| {name} | {classifier} | {accuracy:.3f} | {time_text} |")
        print(f"| {name} | lead of the mean over the best baseline | {lead:+.3f} | |")
        results[name] = {"rows": rows, "lead": lead, "runs": runs}
        baseline_rows = [row for row in rows if row[0] in BASELINES[name]]
        best_name, best_accuracy, _ = max(baseline_rows, key=lambda row: row[1])
        settings = "".join(f" `{setting}`" for setting in changed[name])
        recorded.append(
            result_row(
                f"`{name}` `{args.preset}`{settings}: test accuracy, mean of {args.seeds} seed(s)",
                round(lead + best_accuracy, 4),
                "",
                f"{best_name} (the best baseline)",
                round(best_accuracy, 4),
                TARGETS.get(name)
                if args.preset == "default" and not changed[name]
                else None,
            )
        )
        alone = networks_alone(results[name]["runs"])
        if alone:
            recorded.append(
                result_row(
                    f"`{name}` `{args.preset}`{settings}: test accuracy of each of "
                    f"its networks alone, mean of {len(alone)}",
                    round(float(np.mean(alone)), 4),
                )
            )
    os.makedirs(args.workdir, exist_ok=True)
    with open(os.path.join(args.workdir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, ensure_ascii=False)
    write(
        args.results,
        # The settings that change the presets name the run apart.
        f"Zoo: {', '.join(args.models)}"
        + "".join(f" `{setting}`" for setting in every_change)
        + " (`bench/sentiment.py`)",
        recorded,
        notes=(
            "Each model trained with seeds 0 to N-1 on the seed-0 80/10/10 split "
            "(`split_seed` 0), beside baselines trained on the same split: "
            "snownlp's naive Bayes (Chinese) and a logistic regression on the "
            "model's own tokens and bigrams."
        ),
    )


if __name__ == "__main__":
    main()
