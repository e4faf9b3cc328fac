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
- `in_xla_context`: whether a graph is being built for XLA
  (`control_flow_util.GraphOrParentsInXlaContext`), where the C++ LSTM op
  (`keras_seq.layers.rnn.native_rnn`) has no kernel.
"""

import inspect

from keras.src import backend as _keras_backend
from keras.src.backend.common.masking import get_keras_mask, set_keras_mask
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

__all__ = [
    "DropoutRNNCell",
    "fused_gru",
    "fused_lstm",
    "get_keras_mask",
    "in_xla_context",
    "set_keras_mask",
    "tape_record",
]


def _backend_rnn_function(name):
    """The backend's `lstm` / `gru`: `keras.src.backend.rnn.<name>` from Keras
    3.16 (backends became modules of their own), `keras.src.backend.<name>`
    before."""
    rnn = getattr(_keras_backend, "rnn", None)
    if inspect.ismodule(rnn) and hasattr(rnn, name):
        return getattr(rnn, name)
    return getattr(_keras_backend, name)


def fused_lstm(*args, **kwargs):
    """The backend's fused LSTM: `(last_output, outputs, states)`, or
    NotImplementedError where it has none."""
    return _backend_rnn_function("lstm")(*args, **kwargs)


def fused_gru(*args, **kwargs):
    """The backend's fused GRU: `(last_output, outputs, states)`, or
    NotImplementedError where it has none."""
    return _backend_rnn_function("gru")(*args, **kwargs)


def tape_record():
    """`tensorflow.python.eager.record` (imported on first use: TF is optional)."""
    from tensorflow.python.eager import record

    return record


def in_xla_context():
    """Whether the graph being built is inside an XLA-compiled function
    (`tf.function(jit_compile=True)`), where an op without an XLA kernel
    cannot run. False outside `tf.function`."""
    import tensorflow as tf
    from tensorflow.python.ops import control_flow_util

    if tf.executing_eagerly():
        return False
    return control_flow_util.GraphOrParentsInXlaContext(
        tf.compat.v1.get_default_graph()
    )
