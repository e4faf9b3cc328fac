"""The only place keras_seq reaches into private Keras / TensorFlow modules.

Each name below has no public equivalent; tests/utils/test_compat.py imports
and exercises every one, so a Keras or TensorFlow release that moves one fails
there, by name, rather than somewhere inside a layer.

- `DropoutRNNCell`: Keras's mixin that lets `keras.layers.RNN` draw a cell's
  dropout masks once per sequence, before its loop (required on JAX).
- `fused_lstm` / `fused_gru`: the backend's fused recurrent kernels (cuDNN on
  TensorFlow with a GPU); they raise `NotImplementedError` where there is none.
- `tape_record`: TensorFlow's tape module, for "is a tape recording" and
  "stop every tape", which `tf.GradientTape` does not offer.
- `get_keras_mask` / `set_keras_mask`: read and attach the mask Keras carries
  on a tensor (the ported peer tests in tests/compat use them).
"""

from keras.src import backend as _keras_backend
from keras.src.backend import get_keras_mask, set_keras_mask
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

__all__ = [
    "DropoutRNNCell",
    "fused_gru",
    "fused_lstm",
    "get_keras_mask",
    "set_keras_mask",
    "tape_record",
]


def fused_lstm(*args, **kwargs):
    """`keras.src.backend.lstm`: `(last_output, outputs, states)` or NotImplementedError."""
    return _keras_backend.lstm(*args, **kwargs)


def fused_gru(*args, **kwargs):
    """`keras.src.backend.gru`: `(last_output, outputs, states)` or NotImplementedError."""
    return _keras_backend.gru(*args, **kwargs)


def tape_record():
    """`tensorflow.python.eager.record` (imported on first use: TF is optional)."""
    from tensorflow.python.eager import record

    return record
