"""python -m zoo train|evaluate|export|predict NAME [--preset P] [--epochs N] [--workdir DIR]

python -m zoo train sentiment_zh --workdir runs/sentiment_zh
python -m zoo predict sentiment_zh --workdir runs/sentiment_zh "太好玩了！"

(`keras-seq-zoo` in place of `python -m zoo` where the wheel is installed.)
"""

import argparse
import dataclasses
import importlib
import json
import os
import sys

# This package: `zoo` in a checkout, `keras_seq_zoo` where the wheel installed it.
zoo = importlib.import_module(__package__ or "zoo")


def quiet_tensorflow():
    """Imports TensorFlow with its C++ log silenced (unless already imported).

    Its log lines at import (oneDNN notices, "Could not find cuda drivers",
    a cuInit error) say nothing a user can act on, and TensorFlow 2.21 writes
    them before `TF_CPP_MIN_LOG_LEVEL` applies: standard error is pointed at
    /dev/null while it loads and finds its devices. Python errors still
    raise. A TF_CPP_MIN_LOG_LEVEL of the user's own is kept for later lines.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()
    except ImportError:
        pass  # TensorFlow is optional; the command says so if it needs it
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv=None):
    parser = argparse.ArgumentParser(prog=zoo.COMMAND, description=__doc__)
    parser.add_argument("command", choices=["train", "evaluate", "export", "predict"])
    parser.add_argument("name", choices=zoo.names())
    parser.add_argument("texts", nargs="*", help="predict: the texts to classify")
    parser.add_argument(
        "--preset",
        default=None,
        help="the named config (default: `default`; evaluate, export and predict "
        "without --preset take the training run's config from "
        "WORKDIR/metrics.json, with --set and --epochs applied to it)",
    )
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument(
        "--format",
        choices=["saved_model", "onnx", "litert"],
        default="saved_model",
        help="export: the SavedModel (text in, WORKDIR/export), or the network "
        "after tokenisation as WORKDIR/core.onnx or core.tflite, checked in "
        "its runtime, beside its vocabulary files (zoo/portable.py)",
    )
    parser.add_argument("--workdir", default=None, help="default runs/NAME")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="replace a field of the preset's config, e.g. --set decay_after=7 "
        "(repeatable)",
    )
    parser.add_argument(
        "--strategy",
        default="default",
        choices=["default", "mirrored", "multiworker"],
        help="tf.distribute strategy: mirrored = all local devices, multiworker = "
        "one process per machine, cluster from TF_CONFIG",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's own log lines (quiet by default)",
    )
    args = parser.parse_intermixed_args(argv)
    if not args.verbose:
        quiet_tensorflow()
    try:  # before anything loads: one line naming the pip install
        zoo.check_installed(args.name)
    except ModuleNotFoundError as error:
        sys.exit(f"{zoo.COMMAND} {args.command}: error: {error}")
    # Imported only now (it imports Keras and TensorFlow): `--help` and
    # argument errors answer at once.
    from .training import BackendError, check_workdir

    workdir = args.workdir or os.path.join("runs", args.name)
    settings = args.set or args.epochs is not None
    try:
        check_workdir(workdir)
        trained = zoo.recorded_model(workdir)
    except ValueError as error:
        parser.error(str(error))
    if trained is not None and trained != args.name:
        if args.command == "train":
            parser.error(
                f"{workdir} holds a {trained} run (its metrics.json says so): "
                f"train {args.name} in another --workdir, or remove that run first."
            )
        parser.error(
            f"{workdir} holds a {trained} run (its metrics.json says so), "
            f"not {args.name}: ask for {trained}, or give --workdir of a run of "
            f"{args.name}."
        )
    try:
        config = None
        if args.command != "train" and args.preset is None:
            # The run's config; --set and --epochs change fields of it.
            config = zoo.recorded_config(args.name, workdir)
            if config is not None and settings:
                overrides = zoo.parse_overrides(args.name, "default", args.set)
                if args.epochs is not None:
                    overrides["epochs"] = args.epochs
                config = dataclasses.replace(config, **overrides)
        if config is None:
            preset = args.preset or "default"
            overrides = zoo.parse_overrides(args.name, preset, args.set)
            if args.epochs is not None:
                overrides["epochs"] = args.epochs
            config = zoo.config(args.name, preset, **overrides)
    except ValueError as error:
        parser.error(str(error))
    try:
        return run(parser, args, config, argv)
    except BackendError as error:
        parser.error(str(error))
    except (ValueError, ModuleNotFoundError, FileNotFoundError) as error:
        # What the trainers and loaders raise for a setting, a strategy or
        # an environment they cannot work with: their message says what was
        # expected. ZOO_TRACEBACK=1 shows where it came from.
        if os.environ.get("ZOO_TRACEBACK"):
            raise
        sys.exit(
            f"{zoo.COMMAND} {args.command}: error: {error} (ZOO_TRACEBACK=1 "
            "shows where it came from)"
        )


def run(parser, args, config, argv):
    """The command of `args` (parsed by `main`)."""
    workdir = args.workdir or os.path.join("runs", args.name)
    trainer = zoo.module(args.name).train
    if args.command == "train":
        from .distribute import strategy_named, worker_workdir

        strategy = strategy_named(args.strategy)
        metrics = trainer.train_and_evaluate(
            config, worker_workdir(workdir, strategy), strategy
        )
        print(json.dumps(metrics, indent=2, ensure_ascii=False))
        return 0
    model_path = os.path.join(workdir, "model.keras")
    if args.command == "predict":
        if not args.texts:
            parser.error("predict needs at least one text")
        export = os.path.join(workdir, "export")
        if not os.path.isdir(export) and not os.path.exists(model_path):
            parser.error(
                f"no trained model at {workdir} (neither export/ nor model.keras): "
                f"run `{zoo.COMMAND} train` first"
            )
        model = zoo.load(export if os.path.isdir(export) else model_path)
        rows = trainer.predict_rows(model, args.texts, config=config, workdir=workdir)
        for text, row in zip(args.texts, rows):
            print(f"{row}\t{text}")
        return 0
    if not os.path.exists(model_path):
        parser.error(
            f"no trained model at {model_path}: run `{zoo.COMMAND} train` first"
        )
    if args.command == "export" and args.format != "saved_model":
        from .portable import export_core

        for exported in export_core(
            args.name, zoo.load(model_path), workdir, format=args.format
        ):
            print(
                f"{exported.path}: runs in its runtime, largest difference from "
                f"Keras {exported.max_difference:.2g} at input shapes "
                f"{list(exported.shapes)}"
            )
        return 0
    if args.command == "export" and keras_backend() != "tensorflow":
        return export_on_tensorflow(argv)
    model = zoo.load(model_path)
    if args.command == "evaluate":
        print(json.dumps(trainer.evaluate(model, config, workdir), indent=2))
    else:
        try:
            print(trainer.export(model, os.path.join(workdir, "export"), config=config))
        except NotImplementedError as error:
            parser.error(str(error))
    return 0


def keras_backend():
    import keras

    return keras.backend.backend()


def export_on_tensorflow(argv):
    """`export` again in a process on the TensorFlow backend: the SavedModel
    is a TensorFlow graph, and `model.keras` loads on any backend."""
    import subprocess

    from .training import has_tensorflow

    if not has_tensorflow():
        sys.exit(
            f"{zoo.COMMAND} export: error: the SavedModel is written with "
            "TensorFlow, which is not installed here: pip install "
            "'keras_seq[tensorflow]' (or run this command where it is)."
        )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    argv = sys.argv[1:] if argv is None else argv
    return subprocess.call([sys.executable, "-m", zoo.__name__, *argv], env=env)


if __name__ == "__main__":
    sys.exit(main())
