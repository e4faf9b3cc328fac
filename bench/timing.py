"""Shared timing helper of the bench/ scripts."""

import statistics
import time

import keras
import numpy as np


def batches(models, x, y):
    """`{name: (x, y)}`: each Keras model's batch as its backend's tensors,
    converted once, as the PyTorch peers hold theirs (`TorchModel` takes the
    NumPy arrays it was made with)."""
    native = (keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y))
    return {
        name: (x, y) if hasattr(model, "arrays") else native
        for name, model in models.items()
    }


def median_times(models, x, y, repeats):
    """Median seconds of a training step and of a forward pass of each model:
    `{name: (train_s, predict_s)}`. The models alternate in ABBA order; the
    training steps come first, then the forward passes on the trained
    weights, none right after a training step, as when serving (a Keras
    model's first forward pass after a training step takes longer, a
    `torch.nn` module's does not). Every model gets its inputs as its
    framework's tensors, converted before the timing (`batches`): a NumPy
    batch would be converted at each Keras call, and never at a `torch.nn`
    module's."""
    inputs = batches(models, x, y)
    for name, model in models.items():
        for _ in range(2):  # compile + warm up
            model.train_on_batch(*inputs[name])
            model.predict_on_batch(inputs[name][0])
    train = {name: [] for name in models}
    predict = {name: [] for name in models}
    names = list(models)

    def rounds(timed):
        for repeat in range(repeats):
            for name in names if repeat % 2 == 0 else names[::-1]:
                timed(name, models[name])

    def train_step(name, model):
        batch = inputs[name]
        start = time.perf_counter()
        model.train_on_batch(*batch)
        train[name].append(time.perf_counter() - start)

    def forward(name, model):
        batch = inputs[name][0]
        start = time.perf_counter()
        np.asarray(model.predict_on_batch(batch))
        predict[name].append(time.perf_counter() - start)

    rounds(train_step)
    for name, model in models.items():  # the first forward pass on the new weights
        np.asarray(model.predict_on_batch(inputs[name][0]))
    rounds(forward)
    return {
        name: (statistics.median(train[name]), statistics.median(predict[name]))
        for name in models
    }
