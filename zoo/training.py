"""What every zoo model's training shares: callbacks, curves, metrics.json."""

import functools
import importlib.util
import json
import math
import os
import shutil
import sys
import time

import keras
import numpy as np

from keras_seq.optimizers import with_exact_clipping

from . import COMMAND, check_installed  # noqa: F401  (check_installed: the trainers')
from .resume import BackupAndRestore


def scope(strategy):
    """`strategy.scope()`, or a no-op context for None."""
    import contextlib

    return contextlib.nullcontext() if strategy is None else strategy.scope()


STRATEGIES = ("default", "mirrored", "multiworker")


def strategy_named(name):
    """A `tf.distribute` strategy by name.

    `default`: None (one device). `mirrored`: `MirroredStrategy` over every
    local device (the GPUs, or logical CPU devices if configured).
    `multiworker`: `MultiWorkerMirroredStrategy`, one process per machine,
    the cluster and this process's place in it read from the `TF_CONFIG`
    environment variable (without it: a cluster of this process alone). It
    must be created before TensorFlow runs anything else in the process.
    """
    if name not in STRATEGIES:
        raise ValueError(
            f"Received an invalid value for argument `strategy`, expected one of "
            f"{list(STRATEGIES)}, got {name!r}."
        )
    if name == "default":
        return None
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        _check_tf_config(os.environ.get("TF_CONFIG"))
        return _reduce_as_keras_calls_it(tf.distribute.MultiWorkerMirroredStrategy())
    return None


def _check_tf_config(text):
    """ValueError naming `TF_CONFIG` unless it is unset or JSON of a cluster
    with workers and this process's task among them (TensorFlow's own errors
    name neither the variable nor what it should hold)."""
    if not text:
        return
    expected = (
        'expected JSON such as {"cluster": {"worker": ["host1:port", '
        '"host2:port"]}, "task": {"type": "worker", "index": 0}}'
    )
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ValueError(f"TF_CONFIG is not JSON ({error}): {expected}.") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    valid = (
        isinstance(cluster, dict)
        and any(isinstance(cluster.get(kind), list) for kind in ("chief", "worker"))
        and isinstance(task, dict)
        and isinstance(task.get("type"), str)
        and isinstance(cluster.get(task["type"]), list)
        and isinstance(task.get("index"), int)
        and 0 <= task["index"] < len(cluster[task["type"]])
    )
    if not valid:
        raise ValueError(
            f"TF_CONFIG {text}: {expected}, with this task's index in its list."
        )


def _reduce_as_keras_calls_it(strategy):
    """`strategy` whose `reduce` accepts the two calls Keras 3.15's `fit` makes.

    With two or more workers, `MultiWorkerMirroredStrategy.reduce` fails on
    both: the first `(inputs, targets)` batch reduced in one call to learn the
    shapes ("Attempt to convert a value (PerReplica...)": it takes single
    values only), and each step's scalar metrics reduced with `axis=0`
    ("Invalid reduction dimension 0 for input with 0 dimensions"). Here
    structures are reduced leaf by leaf, and scalars across replicas.
    """
    import tensorflow as tf

    reduce = strategy.reduce

    def reduce_each(reduce_op, value, axis=None):
        if isinstance(value, (tuple, list, dict)):
            return tf.nest.map_structure(
                lambda v: reduce_each(reduce_op, v, axis), value
            )
        local = strategy.experimental_local_results(value)[0]
        if axis is not None and tf.TensorShape(getattr(local, "shape", None)).rank == 0:
            axis = None
        return reduce(reduce_op, value, axis)

    strategy.reduce = reduce_each
    return strategy


def adam(learning_rate, clipnorm):
    """Adam clipping the whole batch's gradient at global norm `clipnorm`.

    (`keras_seq.optimizers.with_exact_clipping`: `tf.clip_by_global_norm`'s
    clipping of the whole batch's gradient, on one device or several.)
    """
    return with_exact_clipping(
        keras.optimizers.Adam(learning_rate, global_clipnorm=clipnorm)
    )


def worker_workdir(workdir, strategy):
    """Where this process writes: `workdir`, or `workdir/workers/N` for the
    non-chief workers of a multi-worker cluster.

    Every worker runs the same training program (evaluation and saving
    included), so each needs a directory; the chief's (worker 0) is the one
    users read.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not cluster:
        return workdir
    chief = ("chief", 0) if "chief" in cluster else ("worker", 0)
    if (resolver.task_type, resolver.task_id) == chief:
        return workdir
    return os.path.join(workdir, "workers", f"{resolver.task_type}{resolver.task_id}")


def verbosity():
    """`fit`'s `verbose`: Keras's progress bar in a terminal (1), one line per
    epoch where the output goes to a file or a pipe, as in a log (2)."""
    return 1 if sys.stdout.isatty() else 2


def has_tensorflow():
    """Whether TensorFlow is installed (a JAX-only GPU machine has none)."""
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None


def string_layers(model):
    """The layers of a `.keras` text model that read its strings, in the
    order of the network's inputs: `tokens` (a TextVectorization), then
    `characters` where the network reads characters too (the tagger's)."""
    names = {layer.name for layer in model.layers}
    return [model.get_layer(n) for n in ("tokens", "characters") if n in names]


def call_text_model(model, texts, bucket=False):
    """A `.keras` text model (strings -> the network's output) on `texts`, NumPy out.

    Its string layers (`string_layers`) run eagerly on TensorFlow and the
    network (the last layer) on the Keras backend, so the same call works on
    JAX, where a compiled graph cannot take strings; the network runs
    compiled there. `bucket`: pad the time axis (1) of the network's inputs
    with zeros to the next power of two, for a network that masks id 0 and
    whose inputs are padded per batch (the tagger's): a few shapes to compile
    instead of one per batch; the output is cut back to the batch's length.
    """
    import tensorflow as tf

    strings = tf.constant(texts)
    inputs = [
        keras.ops.convert_to_numpy(layer(strings)) for layer in string_layers(model)
    ]
    length = inputs[0].shape[1]
    if bucket:
        padded = 2 ** max(4, math.ceil(math.log2(max(length, 1))))
        inputs = [
            np.pad(x, [(0, 0), (0, padded - length)] + [(0, 0)] * (x.ndim - 2))
            for x in inputs
        ]
    network = model.layers[-1]
    inputs = inputs if len(inputs) > 1 else inputs[0]
    if keras.backend.backend() == "tensorflow":
        # Eager calls run keras_seq's recurrences as TensorFlow graphs already:
        # as fast as a traced predict function, without its tracing.
        outputs = network(inputs, training=False)
    else:
        # Elsewhere an eager call steps through each time step op by op (JAX:
        # 4x slower than one compiled call on the tagger's test paragraphs).
        outputs = network.predict_on_batch(inputs)
    outputs = keras.ops.convert_to_numpy(outputs)
    return outputs[:, :length] if bucket else outputs


# Training batches padded per batch are padded further to a multiple of this.
TIME_BUCKET = 16


def pad_time(tensors, multiple=TIME_BUCKET):
    """Zero-pads axis 1 of `tensors` (one shared length) to a multiple of `multiple`.

    For training batches padded to their own longest text, inside a tf.data
    `map`: keras_seq's recurrent layers compile their loops once per input
    shape (XLA on TensorFlow, the whole step on JAX), so a new length would
    mean a new compilation for most batches, and under `tf.distribute`,
    which pads each replica's share by itself, in every epoch. With the
    lengths rounded up, a few shapes are compiled; that costs at most
    `multiple - 1` masked steps a batch. Only for models that mask id 0
    and whose losses and metrics skip label 0 at masked steps (the
    tagger's, `translate_rnn`'s): there the padding changes no figure.

    Args:
        tensors: Tensors `(batch, time, ...)` of the same `time`.
        multiple: The lengths kept. Defaults to `TIME_BUCKET` (16).

    Returns:
        A list of the tensors, `(batch, ceil(time / multiple) * multiple, ...)`.
    """
    import tensorflow as tf

    pad = -tf.shape(tensors[0])[1] % multiple
    return [
        tf.pad(t, [[0, 0], [0, pad]] + [[0, 0]] * (len(t.shape) - 2)) for t in tensors
    ]


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
    """What every model's `metrics.json` starts with: config, data, history."""
    metrics = {
        "model": config.name,
        "config": {k: getattr(config, k) for k in config.__dataclass_fields__},
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
    if splits is not None:
        metrics["train_examples_per_second"] = round(
            len(splits.train) * len(history.epoch) / seconds, 1
        )
    return metrics


def replicas(model):
    """Replicas that `model` trains on: its `tf.distribute` strategy's (1 on JAX).

    Read off the model, not the strategy handed to the trainer: a model built
    outside `strategy.scope()` trains on one device whatever was asked.
    """
    strategy = getattr(model, "distribute_strategy", None)
    return 1 if strategy is None else int(strategy.num_replicas_in_sync)


def write_metrics(workdir, metrics):
    with open(os.path.join(workdir, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2, ensure_ascii=False)
    return metrics
