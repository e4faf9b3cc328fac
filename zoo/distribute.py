"""Training on several devices or machines: `tf.distribute` strategies by name."""

import json
import os


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


def replicas(model):
    """Replicas that `model` trains on: its `tf.distribute` strategy's (1 on JAX).

    Read off the model, not the strategy handed to the trainer: a model built
    outside `strategy.scope()` trains on one device whatever was asked.
    """
    strategy = getattr(model, "distribute_strategy", None)
    return 1 if strategy is None else int(strategy.num_replicas_in_sync)
