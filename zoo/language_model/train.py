"""Train and evaluate the PTB language model: `train_and_evaluate(config, workdir)`.

The task's other modules: `input_pipeline` (sentences, vocabulary, id
streams, windows), `model` (the network), `decode` (continuing prompts) and
`serve` (the SavedModel; `export` and `predict_rows` are the task
contract's, `zoo/task.py`).
"""

import math

import keras
import numpy as np

from keras_seq.optimizers import with_exact_clipping

from .. import distribute, training
from .decode import generate
from .input_pipeline import (
    evaluation_streams,
    load_data,
    stream,
    vocabulary_of,
    windows,
)
from .model import build_language_model
from .serve import export, predict_rows, workdir_words

__all__ = ["evaluate", "export", "predict_rows", "train_and_evaluate"]


class ResetStates(keras.callbacks.Callback):
    """Zero states at every epoch and evaluation start: each pass reads its
    text from the beginning."""

    def _reset(self, logs=None):
        for layer in self.model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()

    on_epoch_begin = on_test_begin = lambda self, *args: self._reset()


def perplexity(model, inputs, targets):
    """exp(mean cross entropy) of the windows, state carried from the start."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()
    loss = model.evaluate(
        inputs.reshape(-1, inputs.shape[-1]),
        targets.reshape(-1, targets.shape[-1]),
        batch_size=inputs.shape[1],
        verbose=0,
    )
    return math.exp(loss)


def stream_perplexity(model, ids, config, chunk=1000):
    """exp(mean cross entropy) of `ids` read as one stream: every word after
    the first predicted from all the words before it.

    This is how Zaremba et al.'s code (and TensorFlow's PTB tutorial) measure
    test perplexity: batch 1, the state carried through the whole text.
    `perplexity` reads `batch_size` streams instead, each starting from a
    zero state, and leaves out the words after the last whole window. The
    model's weights are read by a stateful batch-1 copy, `chunk` words a
    call.
    """
    ids = np.asarray(ids, "int32")
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(
            f"Expected a 1-D stream of at least 2 word ids, got shape {ids.shape}."
        )
    reader = single_device_copy(model, config, batch_size=1)
    total = 0.0
    for start in range(0, len(ids) - 1, chunk):
        inputs = ids[start : start + chunk]
        targets = ids[start + 1 : start + chunk + 1]
        inputs = inputs[: len(targets)]
        logits = reader.predict_on_batch(inputs[None]).astype("float64")[0]
        peak = logits.max(-1, keepdims=True)
        log_norm = peak[:, 0] + np.log(np.exp(logits - peak).sum(-1))
        total += float((log_norm - logits[np.arange(len(targets)), targets]).sum())
    return math.exp(total / (len(ids) - 1))


def keras_rate(config, epoch):
    """The SGD rate of (0-based) `epoch`: `learning_rate`, multiplied by
    `decay` once per epoch after the first `decay_after`, times `bptt` (see
    `compile_model`)."""
    decay = config.decay ** max(0, epoch + 1 - config.decay_after)
    return config.learning_rate * config.bptt * decay


def compile_model(model, config):
    """Plain SGD with the updates of Zaremba et al.

    They minimise the loss summed over the `bptt` steps of a window (mean
    over the batch) with rate `learning_rate`, gradients clipped to global
    norm `clipnorm`. Keras's loss is the mean over the steps as well (`loss`
    is per word, perplexity = exp(loss)), so its gradient is theirs divided by
    `bptt`: the same updates need the rate times `bptt` and the clipping
    norm divided by it. (`with_exact_clipping`: the norm of the dense
    gradient, as theirs; Keras's own miscounts the embedding's on TensorFlow.)
    """
    model.compile(
        optimizer=with_exact_clipping(
            keras.optimizers.SGD(
                keras_rate(config, 0), global_clipnorm=config.clipnorm / config.bptt
            )
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def single_device_copy(model, config, batch_size=None):
    """`model`'s weights (copies) in a fresh stateful model of `batch_size`
    streams (default: the config's) on one device."""
    copy = build_language_model(config, model.output.shape[-1], batch_size)
    for mine, trained in zip(copy.trainable_variables, model.trainable_variables):
        if tuple(mine.shape) != tuple(trained.shape):
            raise ValueError(
                f"The trained model's `{trained.path}` has shape "
                f"{tuple(trained.shape)}, the config's model {tuple(mine.shape)}: "
                "expected the config the model was trained with (leave out "
                "--preset to read it from the run's metrics.json)."
            )
        # A copy: on JAX, sharing the array would let the copy's predict
        # step donate (free) the buffer that `model` still holds.
        mine.assign(keras.ops.convert_to_numpy(trained))
    return copy


def train_and_evaluate(config, workdir, strategy=None):
    """Zaremba et al.'s training: SGD, rate decay, clipping, carried state.

    Writes `model.keras`, checkpoints, logs, `training_curves.png`,
    `vocabulary.txt`, `metrics.json` (valid and test perplexity, a sample)
    and the SavedModel `export/` to `workdir`; returns the metrics.
    `strategy`: a `tf.distribute` strategy (None: one device) whose replicas
    share the `batch_size` streams, each carrying its own streams' state.
    """
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(
            f"lm_ptb splits its {config.batch_size} streams (`batch_size`) among "
            f"the strategy's {replicas} replicas: expected a batch size divisible "
            f"by {replicas}, got {config.batch_size}."
        )
    training.prepare(config, workdir)
    splits = load_data(config)
    words = vocabulary_of(splits.train.inputs, config.max_tokens)
    index = {w: i for i, w in enumerate(words)}
    train_ids = stream(splits.train.inputs, index)
    if config.train_limit:
        train_ids = train_ids[: config.train_limit]
    valid_ids, test_ids = evaluation_streams(splits, index, config)
    data = {
        name: windows(ids, config.batch_size, config.bptt)
        for name, ids in (
            ("train", train_ids),
            ("valid", valid_ids),
            ("test", test_ids),
        )
    }
    with distribute.scope(strategy):
        # Each replica is fed the same rows of every global batch: its own
        # streams, whose state it carries (`stateful` keras_seq layers).
        model = build_language_model(
            config, len(words), batch_size=config.batch_size // replicas
        )
        compile_model(model, config)

    def flat(name):
        inputs, targets = data[name]
        return inputs.reshape(-1, config.bptt), targets.reshape(-1, config.bptt)

    limit = [training.TimeLimit(config.time_limit)] if config.time_limit else []
    history, seconds = training.fit(
        model,
        flat("train"),  # consecutive windows continue each other: in order
        flat("valid"),
        config,
        workdir,
        # Every epoch runs (the rate schedule decides): no early stop.
        patience=config.epochs,
        first=[
            ResetStates(),
            keras.callbacks.LearningRateScheduler(
                lambda epoch, current: keras_rate(config, epoch)
            ),
        ],
        then=limit,
        batch_size=config.batch_size,
    )
    if replicas > 1:  # saved and evaluated as one model of all the streams
        model = single_device_copy(model, config)
        compile_model(model, config)
    metrics = {
        **({"stopped_by_time_limit": limit[0].stopped_epoch > 0} if limit else {}),
        "vocabulary": len(words),
        "train_words": len(train_ids),
        "train_words_per_second": round(
            len(train_ids) * len(history.epoch) / seconds, 1
        ),
        "valid_perplexity": perplexity(model, *data["valid"]),
        # As the paper: the test text as one stream. `batched`: as validation.
        "test_perplexity": stream_perplexity(model, test_ids, config),
        "test_perplexity_batched": perplexity(model, *data["test"]),
        "sample": "the stock market "
        + " ".join(generate(model, words, ["the stock market"], seed=1)[0]),
    }
    return training.finish(
        config,
        workdir,
        model,
        history,
        seconds,
        export=lambda path: export(model, path, words),
        files={"vocabulary.txt": words},
        metrics=metrics,
    )


def evaluate(model, config, workdir):
    """Valid and test perplexity of a trained `model.keras` of `workdir`."""
    index = {w: i for i, w in enumerate(workdir_words(workdir))}
    valid, test = evaluation_streams(load_data(config), index, config)
    # First: its copy of the model refuses a config of other sizes at once.
    test_perplexity = stream_perplexity(model, test, config)
    return {
        "valid_perplexity": perplexity(
            model, *windows(valid, config.batch_size, config.bptt)
        ),
        "test_perplexity": test_perplexity,
        "test_perplexity_batched": perplexity(
            model, *windows(test, config.batch_size, config.bptt)
        ),
    }
