"""Shared timing helper of the bench/ scripts."""

import statistics
import time

import numpy as np


def median_times(models, x, y, repeats):
    """Alternates the models (ABBA order); returns {name: (train_s, predict_s)}."""
    for model in models.values():
        for _ in range(2):  # compile + warm up
            model.train_on_batch(x, y)
            model.predict_on_batch(x)
    train = {name: [] for name in models}
    predict = {name: [] for name in models}
    names = list(models)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            model = models[name]
            start = time.perf_counter()
            model.train_on_batch(x, y)
            train[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            np.asarray(model.predict_on_batch(x))
            predict[name].append(time.perf_counter() - start)
    return {
        name: (statistics.median(train[name]), statistics.median(predict[name]))
        for name in models
    }
