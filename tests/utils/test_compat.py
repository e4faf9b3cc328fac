"""Each private Keras / TensorFlow name of keras_seq.utils.compat still works.

A Keras or TensorFlow release that moves one fails here, by name."""

import inspect

import keras
import numpy as np
import pytest

from keras_seq.utils import compat


def test_dropout_rnn_cell_is_keras_mixin():
    assert inspect.isclass(compat.DropoutRNNCell)
    for method in ("get_dropout_mask", "get_recurrent_dropout_mask"):
        assert callable(getattr(compat.DropoutRNNCell, method))


def test_fused_kernels_answer_or_refuse():
    x = np.ones((2, 3, 4), "float32")
    h = np.zeros((2, 5), "float32")
    kernel = np.full((4, 20), 0.1, "float32")
    recurrent = np.full((5, 20), 0.1, "float32")
    try:
        _, outputs, _ = compat.fused_lstm(
            x,
            h,
            h,
            None,
            kernel=kernel,
            recurrent_kernel=recurrent,
            bias=np.zeros((20,), "float32"),
            activation=keras.activations.tanh,
            recurrent_activation=keras.activations.sigmoid,
            return_sequences=True,
            go_backwards=False,
        )
    except NotImplementedError:
        pass  # no fused kernel here (a CPU): the layers fall back
    else:
        assert tuple(outputs.shape) == (2, 3, 5)
    gru_kernel = np.full((4, 15), 0.1, "float32")
    try:
        compat.fused_gru(
            x,
            h,
            None,
            kernel=gru_kernel,
            recurrent_kernel=np.full((5, 15), 0.1, "float32"),
            bias=np.zeros((2, 15), "float32"),
            activation=keras.activations.tanh,
            recurrent_activation=keras.activations.sigmoid,
            return_sequences=True,
            go_backwards=False,
            reset_after=True,
        )
    except NotImplementedError:
        pass


def test_keras_mask_helpers_round_trip():
    x = keras.ops.ones((2, 3, 4))
    mask = keras.ops.convert_to_tensor(np.array([[1, 1, 0], [1, 0, 0]], bool))
    compat.set_keras_mask(x, mask)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(compat.get_keras_mask(x)),
        keras.ops.convert_to_numpy(mask),
    )


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's tape module"
)
def test_tape_record_module():
    import tensorflow as tf

    record = compat.tape_record()
    assert not record.could_possibly_record()
    with tf.GradientTape():
        assert record.could_possibly_record()
        with record.stop_recording():
            assert not record.could_possibly_record()


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's XLA context"
)
def test_in_xla_context():
    import tensorflow as tf

    seen = []

    def record(x):
        seen.append(compat.in_xla_context())
        return x

    assert not compat.in_xla_context()  # eager
    tf.function(record)(tf.ones(1))
    tf.function(record, jit_compile=True)(tf.ones(1))
    # A plain function called from a compiled one is compiled with it.
    tf.function(lambda x: tf.function(record)(x), jit_compile=True)(tf.ones(2))
    assert seen == [False, True, True]
