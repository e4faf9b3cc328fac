"""Runs the peers' own tests (keras, keras-hub) against keras_seq's layers.

The ported modules keep the peers' test bodies and expected numbers; they
import `layers` and `PeerTestCase` from here instead of from the peer:

- `layers.X` is keras_seq's counterpart of the peer's `X` where there is one
  (`LSTM`, `LSTMCell` -> `PeepholeLSTMCell`, `SinePositionEncoding` ->
  `SinusoidalPositionalEncoding`, ...), and Keras's own layer otherwise
  (`Input`, `Dense`, `Embedding`, ...).
- `PeerTestCase.run_layer_test` takes both peers' signatures (Keras's
  `input_shape=`, keras-hub's `cls=` and dict inputs) and runs keras_seq's
  `run_layer_test` (config round trip, eager and symbolic calls, a fit step,
  `.keras` save and load) plus the peer's extra counts (losses).
"""

import inspect
import types

import keras
import numpy as np
from absl.testing import parameterized

from keras_seq import layers as keras_seq_layers
from keras_seq.testing import TestCase

_COUNTERPARTS = {
    "SimpleRNN": keras_seq_layers.SimpleRNN,
    "LSTM": keras_seq_layers.LSTM,
    "GRU": keras_seq_layers.GRU,
    "SimpleRNNCell": keras_seq_layers.SimpleRNNCell,
    "LSTMCell": keras_seq_layers.PeepholeLSTMCell,
    "GRUCell": keras_seq_layers.GRUCell,
    "Bidirectional": keras_seq_layers.Bidirectional,
    "MultiHeadAttention": keras_seq_layers.MultiHeadAttention,
    "Attention": keras_seq_layers.DotProductAttention,
    "SinePositionEncoding": keras_seq_layers.SinusoidalPositionalEncoding,
    "PositionEmbedding": keras_seq_layers.PositionEmbedding,
    "TransformerEncoder": keras_seq_layers.TransformerEncoderBlock,
    "TransformerDecoder": keras_seq_layers.TransformerDecoderBlock,
}


class _Layers(types.SimpleNamespace):
    def __getattr__(self, name):
        return getattr(keras.layers, name)


layers = _Layers(**_COUNTERPARTS)


def _array(value):
    if isinstance(value, (list, tuple)):
        return np.asarray([_array(item) for item in value])
    return np.asarray(keras.ops.convert_to_numpy(value))


def _random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


class PeerTestCase(TestCase, parameterized.TestCase):
    """keras_seq's `TestCase` with the peers' assertion and layer-test signatures."""

    def assertAllClose(
        self, actual, expected, atol=1e-6, rtol=1e-6, msg=None, **tpu_tolerances
    ):
        """As the peers': nested lists of numbers or tensors are arrays."""
        np.testing.assert_allclose(
            _array(actual), _array(expected), atol=atol, rtol=rtol, err_msg=msg or ""
        )

    def assertNotAllClose(self, actual, expected, atol=1e-6, rtol=1e-6, msg=None):
        actual, expected = _array(actual), _array(expected)
        if actual.shape == expected.shape and np.allclose(
            actual, expected, atol=atol, rtol=rtol
        ):
            self.fail(msg or "the arrays are close")

    def assertAllEqual(self, actual, expected, msg=None):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(actual),
            keras.ops.convert_to_numpy(expected),
            err_msg=msg or "",
        )

    def run_layer_test(
        self,
        layer_cls=None,
        init_kwargs=None,
        input_shape=None,
        input_data=None,
        call_kwargs=None,
        expected_output_shape=None,
        expected_num_trainable_weights=None,
        expected_num_non_trainable_weights=None,
        expected_num_losses=None,
        run_training_check=True,
        cls=None,
        **unused_peer_options,
    ):
        """Both peers' `run_layer_test`, on keras_seq's checks.

        `supports_masking`, mixed-precision and dtype options of the peers are
        not checked here: keras_seq's recurrent layers support masking on
        purpose (docs/compatibility.md), and mixed precision has tests of its
        own.
        """
        layer_cls = layer_cls or cls
        init_kwargs = init_kwargs or {}
        if input_data is None and isinstance(input_shape, dict):
            # Keras's `{"query_shape": ..., "value_shape": ...}`.
            input_data = {
                name[: -len("_shape")]: _random(shape, seed)
                for seed, (name, shape) in enumerate(input_shape.items())
            }
        elif input_data is None:
            input_data = _random(input_shape)
        if isinstance(input_data, dict):
            # keras-hub passes dict inputs as keyword arguments: as positional
            # arguments in the order of the layer's `call`.
            names = list(inspect.signature(layer_cls.call).parameters)[1:]
            input_data = tuple(
                keras.ops.convert_to_numpy(input_data[name])
                for name in names
                if name in input_data
            )
        else:
            input_data = keras.ops.convert_to_numpy(input_data)
        super().run_layer_test(
            layer_cls,
            init_kwargs,
            input_data,
            expected_output_shape=expected_output_shape,
            expected_num_trainable_weights=expected_num_trainable_weights,
            expected_num_non_trainable_weights=expected_num_non_trainable_weights or 0,
            call_kwargs=call_kwargs,
            run_training_check=run_training_check,
        )
        if expected_num_losses is not None:
            layer = layer_cls(**init_kwargs)
            args = input_data if isinstance(input_data, tuple) else (input_data,)
            layer(*args, **(call_kwargs or {}))
            self.assertLen(layer.losses, expected_num_losses)
