"""Serving throughput of the zoo's exported SavedModels, as TF Serving calls them.

For each trained work directory with an `export/`, loads the SavedModel in
this process (`tf.saved_model.load`, the `serving_default` signature) and
times it on real test texts: batches of `--batch` texts (texts/s) and single
texts (milliseconds per request). Training throughput comes from the run's
`metrics.json` (examples or words per second of `fit`).

    python bench/serving.py runs/sentiment_zh runs/pos_zh runs/lm_ptb

`--runtimes` instead times the numeric core of one text model (token ids
in, `python -m zoo export NAME --format onnx|litert`) in ONNX Runtime and
the LiteRT interpreter against Keras `predict` and a direct call of the
same network on the same ids, all in this process, and writes the figures
to `--json`:

    python bench/serving.py --runtimes runs/sentiment_zh --json runs/serving_runtimes.json
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
    import datetime
    import platform

    import keras

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
    if args.json:
        record = {
            "command": "python bench/serving.py --runtimes "
            f"{args.runtimes} --batch {args.batch} --repeats {args.repeats}",
            "model": name,
            "date": datetime.date.today().isoformat(),
            "machine": f"{platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores",
            "versions": {"keras": keras.__version__, **versions()},
            "median_ms": {k: {"batch": b, "one": o} for k, (b, o) in results.items()},
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2)


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
    parser.add_argument("--json", help="--runtimes: where to write the figures")
    args = parser.parse_args()
    if args.runtimes:
        return main_runtimes(args)
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
