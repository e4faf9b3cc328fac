"""The LSTM time loop as a C++ TensorFlow op, for `keras_seq.layers.LSTM` on a CPU.

`lstm_kernels.cc` holds two ops, `KerasSeqLstm` (the whole sequence, forward)
and `KerasSeqLstmGrad` (its gradient, registered here for autodiff). They
split each step's matmuls and gates between the intra-op threads by units,
which XLA on a CPU does not (it runs each step's matmuls on one core).

`LSTM` uses them on TensorFlow when all of these hold (else the XLA loop of
`tf_recurrence`, with the same numbers up to float rounding):
sigmoid / tanh activations, float32, no mask, no recurrent dropout, not
unrolled, `jit_compile="auto"`, no GPU, not inside an XLA-compiled function,
not exporting (TF Serving has no such op: exported SavedModels keep the
core-op loop), and the op built (`keras_seq.utils.native_ops`; where it
cannot be, a warning and the XLA loop). `KERAS_SEQ_NATIVE_LSTM=0` turns it
off.
"""

import functools
import os
import pathlib

import keras
import tensorflow as tf

from keras_seq.utils import native_ops
from keras_seq.utils.compat import in_xla_context

SOURCE = pathlib.Path(__file__).with_name("lstm_kernels.cc")


def library():
    """The loaded ops, or None (with a warning) where they cannot be built."""
    return native_ops.load(SOURCE, "LSTM uses its XLA-compiled loop")


@functools.cache
def _has_gpu():
    return bool(tf.config.list_logical_devices("GPU"))


def usable(cell, sequences, mask, recurrent_mask, unroll, jit_compile):
    """Whether `LSTM` can run its loop with the op for this call."""
    from keras_seq.utils.exporting import is_exporting

    return (
        os.environ.get("KERAS_SEQ_NATIVE_LSTM", "1") != "0"
        and jit_compile == "auto"
        and mask is None
        and recurrent_mask is None
        and not unroll
        and sequences.dtype == tf.float32
        and cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
        and not is_exporting()
        and not _has_gpu()
        and not in_xla_context()
        and library() is not None
    )


def lstm(inputs, kernel, bias, recurrent_kernel, peepholes, h0, c0, save_gates):
    """Runs the sequence.

    Args:
        inputs: `(time, batch, features)` float32.
        kernel: `(features, 4 * units)`; `bias`: `(4 * units,)`.
        recurrent_kernel: `(units, 4 * units)`.
        peepholes: `(3, units)` (input, forget, output gate) or `(0, units)`.
        h0, c0: `(batch, units)` initial states.
        save_gates: Whether to keep the gates for a gradient. Without them a
            gradient (if asked for after all) runs the sequence again first.

    Returns:
        `(h, c)`, each `(time, batch, units)`: the states after every step.
    """
    args = (inputs, kernel, bias, recurrent_kernel, peepholes, h0, c0)
    h, c, _ = library().keras_seq_lstm(*args, save_gates=save_gates)
    return h, c


def _gradient(op, d_h, d_c, _):
    inputs, kernel, _, recurrent_kernel, peepholes, h0, c0 = op.inputs
    h, c, gates = op.outputs
    if not op.get_attr("save_gates"):
        h, c, gates = library().keras_seq_lstm(*op.inputs, save_gates=True)
    d_h = tf.zeros_like(h) if d_h is None else d_h
    d_c = tf.zeros_like(c) if d_c is None else d_c
    return library().keras_seq_lstm_grad(
        inputs, kernel, recurrent_kernel, peepholes, h0, c0, h, c, gates, d_h, d_c
    )


tf.RegisterGradient("KerasSeqLstm")(_gradient)
