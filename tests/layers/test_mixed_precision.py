"""Every public layer under `mixed_float16` and `mixed_bfloat16`: float32
variables, outputs in the policy's dtype and within the tolerance of
docs/layers.md#mixed-precision of the float32 layer with the same weights,
finite gradients, two `fit` steps, `.keras` save and load.

`KERAS_BACKEND=... python -m tests.layers.test_mixed_precision` prints each
layer's relative difference from float32 (the figures of the docs)."""

import os

import keras
import numpy as np
import pytest

from keras_seq import layers
from keras_seq.testing import TestCase

# Largest |mixed - float32| / max(1, max |float32|) measured on these cases
# (seed 0: at most 1.4e-3 and 1.1e-2 on the three backends), with headroom
# (docs/layers.md#mixed-precision).
TOLERANCE = {"mixed_float16": 5e-3, "mixed_bfloat16": 3e-2}

B, T, S, D = 4, 6, 5, 8


def _data(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


SEQUENCE = ((B, T, D),)
SEQUENCE_AND_SOURCE = ((B, T, D), (B, S, D))

# name: (layer factory, input shapes, keyword name of the second input)
CASES = {
    "SimpleRNN": (lambda: layers.SimpleRNN(6, return_sequences=True), SEQUENCE, None),
    "LSTM": (lambda: layers.LSTM(6), SEQUENCE, None),
    "LSTM-peepholes": (lambda: layers.LSTM(6, use_peepholes=True), SEQUENCE, None),
    "LSTM-unrolled": (lambda: layers.LSTM(6, unroll=True), SEQUENCE, None),
    "GRU": (lambda: layers.GRU(6, return_sequences=True), SEQUENCE, None),
    "GRU-reset-before": (lambda: layers.GRU(6, reset_after=False), SEQUENCE, None),
    "GRU-no-xla": (
        lambda: layers.GRU(6, reset_after=False, jit_compile=False),
        SEQUENCE,
        None,
    ),
    "SimpleRNNCell": (
        lambda: keras.layers.RNN(layers.SimpleRNNCell(6)),
        SEQUENCE,
        None,
    ),
    "PeepholeLSTMCell": (
        lambda: keras.layers.RNN(layers.PeepholeLSTMCell(6, use_peepholes=True)),
        SEQUENCE,
        None,
    ),
    "GRUCell": (
        lambda: keras.layers.RNN(layers.GRUCell(6, reset_after=False)),
        SEQUENCE,
        None,
    ),
    "Bidirectional": (
        lambda: layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
        SEQUENCE,
        None,
    ),
    "Stacked": (
        lambda: layers.Stacked(
            layers.GRU(6, return_sequences=True), num_layers=2, bidirectional=True
        ),
        SEQUENCE,
        None,
    ),
    "MultiHeadAttention": (
        lambda: layers.MultiHeadAttention(2, 4),
        SEQUENCE_AND_SOURCE,
        "value",
    ),
    "MultiHeadAttention-additive": (
        lambda: layers.MultiHeadAttention(2, 4, score="additive"),
        SEQUENCE_AND_SOURCE,
        "value",
    ),
    "DotProductAttention": (
        lambda: layers.DotProductAttention(),
        SEQUENCE_AND_SOURCE,
        "value",
    ),
    "AdditiveAttention": (
        lambda: layers.AdditiveAttention(8),
        SEQUENCE_AND_SOURCE,
        "value",
    ),
    "AttentionPooling": (lambda: layers.AttentionPooling(8), SEQUENCE, None),
    "SinusoidalPositionalEncoding": (
        lambda: layers.SinusoidalPositionalEncoding(add_to_inputs=True),
        SEQUENCE,
        None,
    ),
    "PositionEmbedding": (
        lambda: layers.PositionEmbedding(10, add_to_inputs=True),
        SEQUENCE,
        None,
    ),
    "TransformerEncoderBlock": (
        lambda: layers.TransformerEncoderBlock(16, 2),
        SEQUENCE,
        None,
    ),
    "TransformerDecoderBlock": (
        lambda: layers.TransformerDecoderBlock(16, 2),
        SEQUENCE_AND_SOURCE,
        "encoder_sequence",
    ),
}


# Keras's built-ins on the same inputs, printed beside ours for scale.
KERAS_REFERENCES = {
    "keras.layers.LSTM": (lambda: keras.layers.LSTM(6), SEQUENCE, None),
    "keras.layers.GRU": (
        lambda: keras.layers.GRU(6, return_sequences=True),
        SEQUENCE,
        None,
    ),
    "keras.layers.SimpleRNN": (
        lambda: keras.layers.SimpleRNN(6, return_sequences=True),
        SEQUENCE,
        None,
    ),
    "keras.layers.MultiHeadAttention": (
        lambda: keras.layers.MultiHeadAttention(2, 4),
        SEQUENCE_AND_SOURCE,
        "value",
    ),
}


class _Policy:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        keras.mixed_precision.set_global_policy(self.name)

    def __exit__(self, *exc):
        keras.mixed_precision.set_global_policy("float32")


def _model(make, shapes, second):
    inputs = [keras.Input(shape[1:]) for shape in shapes]
    layer = make()
    kwargs = {second: inputs[1]} if second else {}
    output = layer(inputs[0], **kwargs)
    # The loss in float32, as Keras's mixed precision guide does.
    output = keras.layers.Activation("linear", dtype="float32")(output)
    return keras.Model(inputs, output), layer


def _mixed_and_float32(name, policy):
    """The model's output under `policy` and in float32, with the same weights."""
    make, shapes, second = {**CASES, **KERAS_REFERENCES}[name]
    data = [_data(shape, seed) for seed, shape in enumerate(shapes)]
    keras.utils.set_random_seed(0)
    with _Policy(policy):
        model, _ = _model(make, shapes, second)
        mixed = keras.ops.convert_to_numpy(model(data))
        weights = model.get_weights()
    reference, _ = _model(make, shapes, second)
    reference.set_weights(weights)
    return mixed, keras.ops.convert_to_numpy(reference(data))


def _relative_error(mixed, reference):
    mixed = np.asarray(mixed, np.float64)
    reference = np.asarray(reference, np.float64)
    return np.abs(mixed - reference).max() / max(1.0, np.abs(reference).max())


# The wrappers' cases take 7-19 s each on 2 cores: `make test` only.
SLOW_CASES = ("Bidirectional", "Stacked")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.slow) if name in SLOW_CASES else name
        for name in sorted(CASES)
    ],
)
def test_layer_under_mixed_precision(name, policy, tmp_path):
    make, shapes, second = CASES[name]
    data = [_data(shape, seed) for seed, shape in enumerate(shapes)]
    compute_dtype = policy.split("_")[1]
    keras.utils.set_random_seed(0)
    with _Policy(policy):
        model, layer = _model(make, shapes, second)
        assert all(
            keras.backend.standardize_dtype(w.dtype) == "float32" for w in layer.weights
        ), [w.dtype for w in layer.weights]
        kwargs = {second: data[1]} if second else {}
        raw = layer(data[0], **kwargs)
        assert keras.backend.standardize_dtype(raw.dtype) == compute_dtype
        mixed = keras.ops.convert_to_numpy(model(data))

        # Finite gradients of a loss of the outputs, by the inputs and weights.
        case = TestCase()
        _, grad_input, grad_weights = case.layer_gradients(layer, data[0], **kwargs)
        for grad in [grad_input, *grad_weights]:
            assert np.isfinite(grad).all()

        # Two steps of fit (a loss-scale optimizer under mixed_float16).
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        targets = np.ones(mixed.shape, "float32") * 0.1
        history = model.fit(data, targets, batch_size=B // 2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
        for weight in layer.weights:
            assert np.isfinite(keras.ops.convert_to_numpy(weight)).all()

        path = os.path.join(tmp_path, "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        case.assertAllClose(
            restored.predict(data, verbose=0),
            model.predict(data, verbose=0),
            atol=0,
            rtol=0,
        )
        weights = model.get_weights()
        mixed = keras.ops.convert_to_numpy(model(data))

    reference, _ = _model(make, shapes, second)
    reference.set_weights(weights)
    expected = keras.ops.convert_to_numpy(reference(data))
    error = _relative_error(mixed, expected)
    assert error <= TOLERANCE[policy], error


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.LSTM(5, use_peepholes=True),
        lambda: layers.GRU(5, reset_after=False),
    ],
    ids=["peephole-lstm", "gru-reset-before"],
)
def test_fast_path_gradient_reads_variables_in_the_compute_dtype(make, policy):
    """The issue's case: on TensorFlow the hand-written gradient read the
    float32 peepholes / recurrent kernel against float16 activations."""
    with _Policy(policy):
        model = keras.Sequential(
            [keras.Input((6, 3)), make(), keras.layers.Dense(1, dtype="float32")]
        )
        model.compile(optimizer="sgd", loss="mse")
        history = model.fit(np.ones((4, 6, 3)), np.ones((4, 1)), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_large_scores_stay_finite_in_float16():
    """Dot-product scores are scaled before the matmul: a query and key of
    magnitude 100 (d = 8) overflowed float16 when divided after it."""
    query = np.full((1, 2, 8), 100.0, "float32")
    value = np.full((1, 3, 8), 100.0, "float32")
    with _Policy("mixed_float16"):
        for layer in (layers.DotProductAttention(), layers.MultiHeadAttention(2, 4)):
            output = keras.ops.convert_to_numpy(layer(query, value))
            assert np.isfinite(output).all(), type(layer).__name__


def _print_errors():
    policies = ("mixed_float16", "mixed_bfloat16")
    print(f"backend {keras.backend.backend()}")
    print(f"{'layer':32s}" + "".join(f"{p:>16s}" for p in policies))
    worst = dict.fromkeys(policies, 0.0)
    for name in sorted(CASES):
        errors = [_relative_error(*_mixed_and_float32(name, p)) for p in policies]
        for policy, error in zip(policies, errors):
            worst[policy] = max(worst[policy], error)
        print(f"{name:32s}" + "".join(f"{e:16.1e}" for e in errors))
    print(f"{'largest':32s}" + "".join(f"{worst[p]:16.1e}" for p in policies))
    print(
        f"{'test tolerance':32s}" + "".join(f"{TOLERANCE[p]:16.1e}" for p in policies)
    )
    for name in KERAS_REFERENCES:
        errors = [_relative_error(*_mixed_and_float32(name, p)) for p in policies]
        print(f"{name:32s}" + "".join(f"{e:16.1e}" for e in errors))


if __name__ == "__main__":
    _print_errors()
