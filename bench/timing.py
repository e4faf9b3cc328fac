"""Shared timing helper of the bench/ scripts."""

import statistics
import time

import numpy as np


def median_times(models, x, y, repeats):
    """Median seconds of a training step and of a forward pass of each model:
    `{name: (train_s, predict_s)}`. The models alternate in ABBA order; the
    training steps come first, then the forward passes on the trained
    weights, none right after a training step, as when serving (a Keras
    model's first forward pass after a training step takes longer, a
    `torch.nn` module's does not)."""
    for model in models.values():
        for _ in range(2):  # compile + warm up
            model.train_on_batch(x, y)
            model.predict_on_batch(x)
    train = {name: [] for name in models}
    predict = {name: [] for name in models}
    names = list(models)

    def rounds(timed):
        for repeat in range(repeats):
            for name in names if repeat % 2 == 0 else names[::-1]:
                timed(name, models[name])

    def train_step(name, model):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        train[name].append(time.perf_counter() - start)

    def forward(name, model):
        start = time.perf_counter()
        np.asarray(model.predict_on_batch(x))
        predict[name].append(time.perf_counter() - start)

    rounds(train_step)
    for model in models.values():  # the first forward pass on the new weights
        np.asarray(model.predict_on_batch(x))
    rounds(forward)
    return {
        name: (statistics.median(train[name]), statistics.median(predict[name]))
        for name in models
    }
