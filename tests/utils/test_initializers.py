import itertools

import keras
import numpy as np
import pytest

from keras_seq import layers
from keras_seq.utils.initializers import fresh


def values(initializer, shape=(4, 6)):
    return np.asarray(initializer(shape))


def test_keras_initializers_repeat_themselves():
    # The behaviour `fresh` exists for: one instance, the same values twice.
    for initializer in (
        keras.initializers.GlorotUniform(),
        keras.initializers.RandomUniform(-0.1, 0.1, seed=3),
    ):
        np.testing.assert_array_equal(values(initializer), values(initializer))


def test_fresh_draws_new_values_of_the_same_distribution():
    base = keras.initializers.RandomUniform(-0.1, 0.1)
    a, b = values(fresh(base, "kernel")), values(fresh(base, "kernel"))
    assert not np.array_equal(a, b)
    assert np.all(np.abs(np.concatenate([a, b])) <= 0.1)
    assert type(fresh(base, "kernel")) is keras.initializers.RandomUniform


def test_fresh_keeps_a_seeded_initializer_reproducible_per_salt():
    base = keras.initializers.GlorotUniform(seed=7)
    np.testing.assert_array_equal(
        values(fresh(base, "query_kernel")), values(fresh(base, "query_kernel"))
    )
    assert not np.array_equal(
        values(fresh(base, "query_kernel")), values(fresh(base, "key_kernel"))
    )
    again = keras.initializers.GlorotUniform(seed=7)
    np.testing.assert_array_equal(
        values(fresh(base, "key_kernel")), values(fresh(again, "key_kernel"))
    )


def test_fresh_returns_constants_and_seed_generators_unchanged():
    zeros = keras.initializers.Zeros()
    assert fresh(zeros, "bias") is zeros
    generated = keras.initializers.RandomNormal(seed=keras.random.SeedGenerator(1))
    assert fresh(generated, "kernel") is generated
    assert isinstance(fresh("orthogonal", "kernel"), keras.initializers.Orthogonal)


def assert_start_apart(weights):
    """No two `(name, flat values)` share their values (the shorter's length)."""
    for (name_a, a), (name_b, b) in itertools.combinations(weights, 2):
        n = min(len(a), len(b))
        assert not np.array_equal(a[:n], b[:n]), f"{name_a} == {name_b}"


def random_weights(layer):
    return [
        (w.path, np.asarray(w).ravel())
        for w in layer.weights
        if "bias" not in w.path and np.std(np.asarray(w)) > 0
    ]


x = np.random.default_rng(0).random((2, 5, 8)).astype("float32")
LAYERS = {
    "PeepholeLSTMCell": (lambda: keras.layers.RNN(layers.PeepholeLSTMCell(8)), (x,)),
    "LSTM one initializer": (
        lambda: layers.LSTM(
            8,
            kernel_initializer=keras.initializers.RandomUniform(-0.1, 0.1, seed=1),
            recurrent_initializer=keras.initializers.RandomUniform(-0.1, 0.1, seed=1),
        ),
        (x,),
    ),
    "AdditiveAttention": (lambda: layers.AdditiveAttention(8), (x, x)),
    "AttentionPooling": (lambda: layers.AttentionPooling(8), (x,)),
    "MultiHeadAttention": (lambda: layers.MultiHeadAttention(2, 4), (x, x)),
    "MultiHeadAttention seeded": (
        lambda: layers.MultiHeadAttention(
            2, 4, kernel_initializer=keras.initializers.GlorotUniform(seed=2)
        ),
        (x, x),
    ),
    "TransformerEncoderBlock": (lambda: layers.TransformerEncoderBlock(8, 2), (x,)),
    "TransformerDecoderBlock": (lambda: layers.TransformerDecoderBlock(8, 2), (x, x)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_no_two_weights_start_identical(name):
    make, inputs = LAYERS[name]
    layer = make()
    layer(*inputs)
    weights = random_weights(layer)
    assert len(weights) >= 2
    assert_start_apart(weights)
