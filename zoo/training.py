"""The training pipeline every zoo task shares, written once.

A task's `train_and_evaluate(config, workdir)` reads as three calls around
its own data, model and metrics:

    training.prepare(config, workdir)           # packages, workdir, seed
    history, seconds = training.fit(model, train, valid, config, workdir)
    ...                                          # the task's test metrics
    return training.finish(config, workdir, model, history, seconds, ...)

`fit` runs `model.fit` with the callbacks every run has (TensorBoard logs,
best and last checkpoints, early stopping, `BackupAndRestore` so a killed
run resumes); `finish` saves `model.keras` and the files beside it, writes
the SavedModel (or says why not), draws the training curves and writes
`metrics.json`. Imports flow one way: the tasks use this module, which
knows no task.
"""

import functools
import importlib.util
import json
import os
import shutil
import sys
import time

import keras

from keras_seq.optimizers import with_exact_clipping

from . import COMMAND, check_installed, records
from .distribute import replicas
from .resume import BackupAndRestore


def prepare(config, workdir, tensorflow_backend=False):
    """The start of every run: what model `config.name` needs is installed
    (and Keras runs on TensorFlow where `tensorflow_backend`: a model whose
    text pipeline and search are one TensorFlow graph), `workdir` exists,
    and every random generator is seeded with `config.seed`."""
    check_installed(config.name)
    if tensorflow_backend:
        needs_tensorflow_backend(config.name)
    os.makedirs(workdir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)


def fit(
    model,
    train,
    valid,
    config,
    workdir,
    monitor="val_loss",
    mode="min",
    patience=None,
    first=(),
    then=(),
    **fit_kwargs,
):
    """`model.fit` for `config.epochs` with every run's `callbacks`.

    Args:
        model: A compiled Keras model.
        train, valid: `tf.data` datasets of batches, or `(inputs, targets)`
            arrays (then `batch_size` goes in `fit_kwargs`). Never shuffled
            here: a dataset shuffles itself, arrays are taken in order.
        config: The run's config (`epochs`, `patience`).
        workdir: Where the logs, checkpoints and backup go.
        monitor, mode: What early stopping and the best checkpoint watch.
        patience: Epochs without improvement before stopping. Defaults to
            `config.patience`.
        first, then: The task's own callbacks, before and after the shared
            ones (those after see a resumed run as Keras shows it).

    Returns:
        `(history, seconds)`: the `History` and the wall time of `fit`.
    """
    train = train if isinstance(train, tuple) else (train,)
    start = time.perf_counter()
    history = model.fit(
        *train,
        # A tf.data pipeline shuffles itself: Keras's `shuffle` does not
        # apply to it and only warns.
        shuffle=False,
        validation_data=valid,
        epochs=config.epochs,
        callbacks=[
            *first,
            *callbacks(
                workdir,
                monitor,
                mode,
                config.patience if patience is None else patience,
            ),
            *then,
        ],
        verbose=verbosity(),
        **fit_kwargs,
    )
    return history, time.perf_counter() - start


def finish(
    config,
    workdir,
    model,
    history,
    seconds,
    splits=None,
    export=None,
    files=None,
    metrics=None,
):
    """The end of every run; returns what it wrote to `metrics.json`.

    Saves `model` as `workdir/model.keras` and `files` (`{file name:
    lines}`: vocabularies, class names) beside it, writes the SavedModel
    with `export(path)` where this process can (`export_or_skip`; else
    `metrics.json` says why and how), draws `training_curves.png`, and
    writes `metrics.json`: `run_metrics` (config, data, history, time), then
    the task's `metrics`.
    """
    model.save(os.path.join(workdir, "model.keras"))
    for name, lines in (files or {}).items():
        write_lines(os.path.join(workdir, name), lines)
    skipped = export_or_skip(config.name, workdir, export) if export else None
    plot_history(
        history.history, os.path.join(workdir, "training_curves.png"), config.name
    )
    return write_metrics(
        workdir,
        {
            **run_metrics(config, history, seconds, splits),
            **(metrics or {}),
            **({"export": skipped} if skipped else {}),
        },
    )


def adam(learning_rate, clipnorm):
    """Adam clipping the whole batch's gradient at global norm `clipnorm`.

    (`keras_seq.optimizers.with_exact_clipping`: `tf.clip_by_global_norm`'s
    clipping of the whole batch's gradient, on one device or several.)
    """
    return with_exact_clipping(
        keras.optimizers.Adam(learning_rate, global_clipnorm=clipnorm)
    )


def verbosity():
    """`fit`'s `verbose`: Keras's progress bar in a terminal (1), one line per
    epoch where the output goes to a file or a pipe, as in a log (2)."""
    return 1 if sys.stdout.isatty() else 2


def has_tensorflow():
    """Whether TensorFlow is installed (a JAX-only GPU machine has none)."""
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None


def why_no_export(name, workdir):
    """None where this process can write the SavedModel, else the metrics' note.

    The exported graph is TensorFlow's: it needs the TensorFlow backend. A run
    on another backend (JAX on a GPU machine) saves `model.keras`, which
    `python -m zoo export` turns into the SavedModel wherever TensorFlow is
    installed, whatever `KERAS_BACKEND` says there.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return None
    where = "here" if has_tensorflow() else "on a machine with TensorFlow"
    return (
        f"skipped: the SavedModel is written on the TensorFlow backend and this "
        f"run used {backend}; run `{COMMAND} export {name} --workdir {workdir}` "
        f"{where} (it reads this run's config from its metrics.json)"
    )


def check_workdir(path):
    """ValueError unless `path` is a directory or does not exist yet (a
    training run makes it): the CLIs' check of `--workdir`."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(
            f"--workdir {path} is a file: expected a directory (a new one is made "
            "for training)."
        )


def export_or_skip(name, workdir, write):
    """`write(workdir/export)` where this process can write the SavedModel
    (`why_no_export`); else the metrics' note, after removing the `export/`
    of an earlier run in `workdir`, which would answer for the old model
    (`predict` serves `export/` before `model.keras`)."""
    skipped = why_no_export(name, workdir)
    path = os.path.join(workdir, "export")
    if not skipped:
        write(path)
        return None
    if os.path.isdir(path):
        shutil.rmtree(path)
        skipped += "; the export/ of an earlier run in this directory was removed"
    return skipped


class BackendError(ValueError):
    """A model asked of a Keras backend it does not run on."""


def needs_tensorflow_backend(name):
    """Raises BackendError unless Keras runs on TensorFlow (for models whose
    text pipeline and search run as one TensorFlow graph)."""
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise BackendError(
            f"{name} runs on the TensorFlow backend (its tokenizers and search "
            f"run as one TensorFlow graph, as in its SavedModel); got the "
            f"{backend} backend. Set KERAS_BACKEND=tensorflow."
        )


def callbacks(workdir, monitor="val_loss", mode="min", patience=3):
    """TensorBoard logs, best and last checkpoints, resumable runs, early stopping.

    (No TensorBoard logs where TensorFlow or tensorboard is not installed.)

    `BackupAndRestore` keeps the training state in `workdir/backup`: a run
    killed mid-way and started again with the same command resumes at the
    epoch it reached, with the best checkpoint's and early stopping's
    records of the epochs before and the history of every epoch (the
    backup is deleted once training completes). Callbacks added after
    these see a resumed run as Keras shows it.
    """
    logs = []
    # Keras writes TensorBoard logs with tf.summary, which needs TensorFlow
    # and the tensorboard package (the zoo extra has both).
    if has_tensorflow() and importlib.util.find_spec("tensorboard") is not None:
        logs.append(keras.callbacks.TensorBoard(os.path.join(workdir, "logs")))
    best = keras.callbacks.ModelCheckpoint(
        os.path.join(workdir, "best.keras"),
        monitor=monitor,
        mode=mode,
        save_best_only=True,
    )
    stopping = keras.callbacks.EarlyStopping(
        monitor=monitor, mode=mode, patience=patience, restore_best_weights=True
    )
    return [
        *logs,
        best,
        keras.callbacks.ModelCheckpoint(os.path.join(workdir, "last.keras")),
        stopping,
        # After the callbacks it keeps: it saves their state of the epoch.
        BackupAndRestore(os.path.join(workdir, "backup"), keep=[best, stopping]),
    ]


class TimeLimit(keras.callbacks.Callback):
    """Stops `fit` after the last epoch that ends inside `seconds`.

    At the end of each epoch it stops training if one more epoch, as long
    as the longest so far, would end more than `seconds` after training
    began: a run with a hard wall-clock limit (a batch job's time slot)
    then still evaluates and writes its figures, for the epochs it ran.
    `stopped_epoch` is the (1-based) epoch it stopped after, 0 if none.
    `EarlyStopping(restore_best_weights=True)` restores the best epoch
    either way.

    Args:
        seconds: The time budget of `fit`, a positive number.
    """

    def __init__(self, seconds):
        super().__init__()
        if not seconds > 0:
            raise ValueError(
                "Received an invalid value for argument `seconds`, expected a "
                f"positive number, got {seconds}."
            )
        self.seconds = seconds
        self.stopped_epoch = 0

    def on_train_begin(self, logs=None):
        self.start = self.epoch_start = time.perf_counter()
        self.longest = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.epoch_start)
        if now - self.start + self.longest > self.seconds:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True


PLOT_EXTRA = "pip install 'keras_seq[plot]'"


def optional_plot(function):
    """`function` writes a figure; without matplotlib it writes nothing.

    A run never loses its model, export or metrics.json to a missing plotting
    library: the call prints one line naming the figure it skipped and the
    extra that brings matplotlib, and returns None.
    """

    @functools.wraps(function)
    def plot(*args, **kwargs):
        if importlib.util.find_spec("matplotlib") is None:
            print(f"{function.__name__}: figure skipped, no matplotlib ({PLOT_EXTRA})")
            return None
        return function(*args, **kwargs)

    return plot


@optional_plot
def plot_history(history, path, title):
    """Training and validation curves of every metric, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in history if not k.startswith("val_")]
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5))
    axes = [axes] if len(names) == 1 else axes
    for axis, name in zip(axes, names):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="valid")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_lines(path, items):
    """`items` (names, words, tags) to a UTF-8 file, one a line."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{item}\n" for item in items)


def read_lines(path):
    """The lines `write_lines` wrote, exactly (spaces inside kept)."""
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def limit_splits(splits, train_limit=0, eval_limit=0):
    """Keeps the first `train_limit` training examples and the first
    `eval_limit` of the validation and test splits (0: all); returns `splits`."""
    for split, limit in (
        (splits.train, train_limit),
        (splits.valid, eval_limit),
        (splits.test, eval_limit),
    ):
        if limit:
            split.inputs = split.inputs[:limit]
            split.targets = split.targets[:limit]
    return splits


def run_metrics(config, history, seconds, splits=None):
    """What every model's `metrics.json` starts with: config, data, history,
    and the run's provenance (command, date, machine, versions, commit:
    `zoo.records`), which `python bench/results.py zoo WORKDIR` carries into
    the project's results files."""
    metrics = {
        "model": config.name,
        "config": {k: getattr(config, k) for k in config.__dataclass_fields__},
        "provenance": records.provenance(),
    }
    if splits is not None:
        metrics["data"] = splits.description
        metrics["sizes"] = {
            "train": len(splits.train),
            "valid": len(splits.valid),
            "test": len(splits.test),
        }
    # `history.history` holds every epoch, those before a resumption too
    # (`BackupAndRestore`); `history.epoch` the epochs this process ran.
    metrics["epochs_run"] = len(history.history["loss"])
    metrics["resumed_at_epoch"] = history.epoch[0] if history.epoch else 0
    metrics["replicas"] = replicas(history.model)
    metrics["history"] = {
        k: [float(v) for v in vs] for k, vs in history.history.items()
    }
    metrics["train_seconds"] = round(seconds, 1)  # of this process
    if splits is not None and seconds > 0:
        metrics["train_examples_per_second"] = round(
            len(splits.train) * len(history.epoch) / seconds, 1
        )
    return metrics


def write_metrics(workdir, metrics):
    with open(os.path.join(workdir, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2, ensure_ascii=False)
    return metrics
