"""Serving throughput of the zoo's exported SavedModels, as TF Serving calls them.

For each trained work directory with an `export/`, loads the SavedModel in
this process (`tf.saved_model.load`, the `serving_default` signature) and
times it on real test texts: batches of `--batch` texts (texts/s) and single
texts (milliseconds per request). Training throughput comes from the run's
`metrics.json` (examples or words per second of `fit`). Each model's figures
go to its results file, `serving_<model>.json` in `bench/results/`, or
`serving_<model>_<preset>.json` for a run of a preset other than `default`
(`--results DIRECTORY` for another folder, `''` for none).

    python bench/serving.py runs/sentiment_zh runs/pos_zh runs/lm_ptb

`--runtimes` instead times the numeric core of one text model (token ids
in, `python -m zoo export NAME --format onnx|litert`) in ONNX Runtime and
the LiteRT interpreter against Keras `predict` and a direct call of the
same network on the same ids, all in this process, and writes the figures
to the results file `serving_runtimes.json` in `bench/results/` (`--results
PATH`), each runtime against Keras `predict`:

    python bench/serving.py --runtimes runs/sentiment_zh
"""

import argparse
import json
import os
import statistics
import time

from results import DIRECTORY, measure, run_name, write

import zoo

# Issue-level aims for one request: `sentiment_zh` within 1.5x of the
# 6.8 ms its SavedModel took before the zoo's refactor.
ONE_TEXT_AT_MOST_MS = {"sentiment_zh": 10.2}


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


def runtimes(workdir, batch, repeats):
    """`{runtime: (ms for a batch, ms for one text)}` of the numeric core of
    the text model in `workdir`, on the ids of its first test texts."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_seq.export.portable import runtime_runner
    from zoo import portable, text_inputs

    with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    name = metrics["model"]
    config = zoo.recorded_config(name, workdir)
    model = zoo.load(os.path.join(workdir, "model.keras"))
    texts = test_texts(name, config)[:batch]
    network, _ = portable.numeric_core(name, model, workdir)
    layers = text_inputs.string_layers(model)
    if not layers:
        raise SystemExit(
            f"--runtimes times text models (sentiment, pos_zh), not {name}"
        )
    ids = [keras.ops.convert_to_numpy(layer(tf.constant(texts))) for layer in layers]
    one = [x[:1] for x in ids]
    names = [x.name for x in network.inputs]
    calls = {
        "Keras predict": lambda x: network.predict(x, verbose=0),
        "Keras call": lambda x: network(x, training=False),
    }
    for format in ("onnx", "litert"):
        path = os.path.join(workdir, "core" + portable.EXTENSIONS[format])
        portable.export_core(name, model, workdir, format=format, path=path)
        calls[format_name(format)] = runtime_runner(format, path, names)
    results = {}
    for label, call in calls.items():
        results[label] = (
            timed(call, ids, repeats) * 1e3,
            timed(call, one, repeats) * 1e3,
        )
    shapes = [list(x.shape) for x in ids]
    return name, results, shapes, np.mean([len(t) for t in texts])


def format_name(format):
    return {"onnx": "ONNX Runtime", "litert": "LiteRT interpreter"}[format]


def main_runtimes(args):

    name, results, shapes, length = runtimes(args.runtimes, args.batch, args.repeats)
    baseline = results["Keras predict"]
    print(
        f"{name}, token ids of shape {shapes[0]} (batch of the first {args.batch} "
        f"test texts, {length:.0f} characters on average) and one text"
    )
    print(
        f"| runtime | batch of {args.batch}: ms | x Keras predict | one text: ms "
        "| x Keras predict |"
    )
    print("|---|---|---|---|---|")
    for label, (batch_ms, one_ms) in results.items():
        print(
            f"| {label} | {batch_ms:.2f} | {batch_ms / baseline[0]:.2f} "
            f"| {one_ms:.2f} | {one_ms / baseline[1]:.2f} |"
        )
    rows = []
    for label, (batch_ms, one_ms) in results.items():
        for case, value, peer_value in (
            (f"batch of {args.batch}", batch_ms, baseline[0]),
            ("one text", one_ms, baseline[1]),
        ):
            peer = None if label == "Keras predict" else "Keras predict"
            rows.append(
                measure(
                    f"{name}, {label}, {case}",
                    round(value, 2),
                    "ms",
                    peer,
                    None if peer is None else round(peer_value, 2),
                )
            )
    write(
        args.results,
        f"Runtimes of the numeric core of {name} (`bench/serving.py --runtimes`)",
        rows,
        notes=(
            f"Token ids of shape {shapes[0]} (the first {args.batch} test texts, "
            f"{length:.0f} characters on average) and of one text, medians of "
            f"{args.repeats} calls, every runtime in one process; "
            + ", ".join(f"{k} {v}" for k, v in versions().items())
            + "."
        ),
    )


def versions():
    import importlib.metadata

    found = {}
    for package in ("tensorflow", "onnxruntime", "ai-edge-litert", "tf2onnx"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdirs", nargs="*")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--runtimes", metavar="WORKDIR", help="see above")
    parser.add_argument(
        "--results",
        default=None,
        help="results file (--runtimes) or folder of the per-model files; '' "
        f"for none; default {DIRECTORY.name}/serving_runtimes.json or "
        f"{DIRECTORY.name}/serving_<model>[_<preset>].json",
    )
    args = parser.parse_args()
    if args.runtimes:
        if args.results is None:
            args.results = str(DIRECTORY / "serving_runtimes.json")
        return main_runtimes(args)
    if args.results is None:
        args.results = str(DIRECTORY)
    if not args.workdirs:
        parser.error("expected work directories, or --runtimes WORKDIR")
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
        run = run_name(metrics)  # the model, and its preset if not `default`
        settings = {k: v for k, v in metrics["config"].items() if k != "name"}
        config = zoo.config(name, **settings)
        # train_seconds are of the last process: a resumed run's epochs after
        # it resumed.
        epochs = metrics["epochs_run"] - metrics.get("resumed_at_epoch", 0)
        if "train_words" in metrics:
            words = metrics["train_words"] * epochs
            rate_value, rate_unit = words / metrics["train_seconds"], "words/s"
        else:
            rate_value = metrics.get("train_examples_per_second")
            if rate_value is None:  # metrics.json of an older run
                rate_value = (
                    metrics["sizes"]["train"] * epochs / metrics["train_seconds"]
                )
            rate_unit = "examples/s"
        training = f"{rate_value:,.0f} {rate_unit}"
        served = zoo.load(os.path.join(workdir, "export"))
        texts = test_texts(name, config)[: args.batch]
        batch_seconds = timed(served, texts, args.repeats)
        one_seconds = timed(served, texts[:1], args.repeats)
        print(
            f"| {run} | {training} | {len(texts) / batch_seconds:,.0f} "
            f"| {one_seconds * 1e3:.1f} |",
            flush=True,
        )
        one_ms = round(one_seconds * 1e3, 2)
        target = ONE_TEXT_AT_MOST_MS.get(name)
        rows = [
            measure(f"{run}, training (fit)", round(rate_value, 1), rate_unit),
            measure(
                f"{run}, SavedModel, batch of {len(texts)}",
                round(len(texts) / batch_seconds, 1),
                "texts/s",
            ),
            measure(
                f"{run}, SavedModel, one text",
                one_ms,
                "ms",
                target=None if target is None else {"on": "value", "at_most": target},
            ),
        ]
        if args.results:
            write(
                os.path.join(args.results, f"serving_{run}.json"),
                f"Serving {run} (`bench/serving.py`)",
                rows,
                notes=(
                    f"The exported SavedModel ({workdir}/export) loaded with "
                    "`tf.saved_model.load` and called through `serving_default` "
                    f"on real test texts, medians of {args.repeats} calls; "
                    "training from the run's metrics.json."
                ),
            )


if __name__ == "__main__":
    main()
