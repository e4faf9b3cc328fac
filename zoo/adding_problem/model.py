"""Data and models of the adding problem (Hochreiter & Schmidhuber 1997, exp. 4)."""

import keras
import numpy as np

from keras_seq import layers


def adding_problem(size, length, seed):
    """`size` sequences of `length` steps and their targets.

    Each step holds `[value, marker]`: values are uniform in [0, 1); exactly two
    steps are marked, one in each half. The target is the sum of the two marked
    values, so a model must carry information across up to `length` steps.
    Predicting the mean (1.0) gives a mean squared error of 1/6.

    Returns:
        `x` `[size, length, 2]` float32 and `y` `[size, 1]` float32.
    """
    rng = np.random.default_rng(seed)
    values = rng.uniform(size=(size, length)).astype("float32")
    half = length // 2
    first = rng.integers(0, half, size=size)
    second = rng.integers(half, length, size=size)
    markers = np.zeros((size, length), "float32")
    rows = np.arange(size)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    return x, y


def recurrent_layer(kind, units):
    if kind == "SimpleRNN":
        return layers.SimpleRNN(units)
    if kind == "GRU":
        return layers.GRU(units)
    if kind == "LSTM":
        return layers.LSTM(units)
    if kind == "PeepholeLSTM":
        return layers.LSTM(units, use_peepholes=True)
    raise ValueError(
        f"Unknown model {kind!r}, expected SimpleRNN, GRU, LSTM or PeepholeLSTM."
    )


def build_model(kind, length, units):
    """`[batch, length, 2]` -> recurrent layer -> Dense(1) regression."""
    inputs = keras.Input((length, 2))
    hidden = recurrent_layer(kind, units)(inputs)
    outputs = keras.layers.Dense(1)(hidden)
    return keras.Model(inputs, outputs, name=kind.lower())
