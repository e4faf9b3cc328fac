"""The recurrent time loops as C++ TensorFlow ops, for the layers on a CPU.

`rnn_kernels.cc` holds one op per cell for the whole sequence, forward
(`KerasSeqLstm`, `KerasSeqGru`, `KerasSeqRnn`), and one for its gradient
(`...Grad`, registered here for autodiff). They split each step's matmuls
and gates between the intra-op threads by units, which XLA on a CPU does
not (it runs each step's matmuls on one core).

`LSTM` (with or without peepholes), `GRU(reset_after=True)` and
`SimpleRNN` use them on TensorFlow when all of these hold, else the loop
of `tf_recurrence`, with the same numbers up to float rounding: the
default activations (sigmoid / tanh; tanh for `SimpleRNN`), float32, no
mask, no recurrent dropout, not unrolled, `jit_compile="auto"`, no GPU, not
inside an XLA-compiled function, not exporting (TF Serving has no such
op: exported SavedModels keep the core-op loop), and the ops built
(`keras_seq.utils.native_ops`; where they cannot be, a warning and the
loop). `KERAS_SEQ_NATIVE_RNN=0` turns them off.
"""

import functools
import os
import pathlib

import keras
import tensorflow as tf

from keras_seq.utils import native_ops
from keras_seq.utils.compat import in_xla_context

SOURCE = pathlib.Path(__file__).with_name("rnn_kernels.cc")
# The CPU's flags, then the same with KERAS_SEQ_PORTABLE: for an Eigen whose
# internal matrix-product kernels (which `PackedWeights` calls) differ from
# those of TensorFlow 2.21's headers, Eigen's public products instead.
FLAG_SETS = native_ops.ARCH_FLAGS + tuple(
    (*flags, "-DKERAS_SEQ_PORTABLE") for flags in native_ops.ARCH_FLAGS
)


def build(verbose=False):
    """Compiles the ops unless they are built already; returns the path."""
    return native_ops.build(SOURCE, verbose=verbose, flag_sets=FLAG_SETS)


def library():
    """The loaded ops, or None (with a warning) where they cannot be built."""
    return native_ops.load(
        SOURCE, "the recurrent layers use their compiled loops", FLAG_SETS
    )


@functools.cache
def _has_gpu():
    return bool(tf.config.list_logical_devices("GPU"))


def _kind(cell):
    """ "lstm", "gru" or "rnn": the op that computes the cell, or None."""
    from keras_seq.layers.rnn.gru_cell import GRUCell
    from keras_seq.layers.rnn.peephole_lstm_cell import PeepholeLSTMCell
    from keras_seq.layers.rnn.simple_rnn_cell import SimpleRNNCell

    if cell.activation is not keras.activations.tanh:
        return None
    if isinstance(cell, SimpleRNNCell):
        return "rnn"
    if getattr(cell, "recurrent_activation", None) is not keras.activations.sigmoid:
        return None
    if isinstance(cell, PeepholeLSTMCell):
        return "lstm"
    if isinstance(cell, GRUCell) and cell.reset_after:
        return "gru"
    return None


def usable(layer, sequences, mask, recurrent_mask):
    """Whether `layer` can run its loop with an op for this call."""
    from keras_seq.utils.exporting import is_exporting

    return (
        os.environ.get("KERAS_SEQ_NATIVE_RNN", "1") != "0"
        and _kind(layer.cell) is not None
        and layer.jit_compile == "auto"
        and mask is None
        and recurrent_mask is None
        and not layer.unroll
        and sequences.dtype == tf.float32
        and not is_exporting()
        and not _has_gpu()
        and not in_xla_context()
        and library() is not None
    )


def call(layer, sequences, initial_state, mask, recurrent_mask):
    """`(last_output, outputs, states)` of `layer` from its op, or None where
    the op does not apply (`usable`)."""
    if not usable(layer, sequences, mask, recurrent_mask):
        return None
    from keras_seq.layers.rnn.tf_recurrence import gradient_may_be_taken

    cell = layer.cell
    units = cell.units
    inputs = tf.transpose(sequences, (1, 0, 2))  # (time, batch, features)
    if layer.go_backwards:
        inputs = tf.reverse(inputs, [0])
    kernel = tf.convert_to_tensor(cell.kernel)
    recurrent_kernel = tf.convert_to_tensor(cell.recurrent_kernel)
    save = gradient_may_be_taken()
    kind = _kind(cell)
    if kind == "lstm":
        bias = cell._input_bias() if cell.use_bias else None
        bias = tf.zeros((4 * units,)) if bias is None else tf.convert_to_tensor(bias)
        if cell.use_peepholes:
            peepholes = tf.stack(
                [
                    tf.convert_to_tensor(getattr(cell, f"{gate}_gate_peephole_weights"))
                    for gate in ("input", "forget", "output")
                ]
            )
        else:
            peepholes = tf.zeros((0, units))
        h, _, _, h_last, c_last = library().keras_seq_lstm(
            inputs,
            kernel,
            bias,
            recurrent_kernel,
            peepholes,
            *initial_state,
            save_gates=save,
        )
        states = [h_last, c_last]
    elif kind == "gru":
        if cell.use_bias:
            input_bias = tf.convert_to_tensor(cell.bias[0])
            recurrent_bias = tf.convert_to_tensor(cell.bias[1])
        else:
            input_bias = recurrent_bias = tf.zeros((3 * units,))
        h, _, h_last = library().keras_seq_gru(
            inputs,
            kernel,
            input_bias,
            recurrent_kernel,
            recurrent_bias,
            initial_state[0],
            save_gates=save,
        )
        states = [h_last]
    else:
        bias = tf.convert_to_tensor(cell.bias) if cell.use_bias else tf.zeros((units,))
        h, h_last = library().keras_seq_rnn(
            inputs, kernel, bias, recurrent_kernel, initial_state[0]
        )
        states = [h_last]
    # Only a layer returning the sequence reads `h`: otherwise no gradient
    # flows into it (the gradient ops take an empty `dh`, not T steps of
    # zeros).
    outputs = tf.transpose(h, (1, 0, 2)) if layer.return_sequences else None
    return h_last, outputs, states


def _or_zeros(gradient, like):
    return tf.zeros_like(like) if gradient is None else gradient


def _each_step(gradient, h):
    """`dh` for a gradient op: the gradient of every step's h, or, where no
    gradient reached `h` (only the last state was used), (0, batch, units)."""
    if gradient is not None:
        return gradient
    return tf.zeros(tf.concat([[0], tf.shape(h)[1:]], 0), h.dtype)


def _input_gradient(op, d_pre, kernel):
    """`dx = d_pre kernel^T`, (time, batch, features); None where the inputs
    need no gradient (eager tapes say so; graphs prune the matmul)."""
    if 0 in (getattr(op, "skip_input_indices", None) or ()):
        return None
    inputs = op.inputs[0]
    flat = tf.reshape(d_pre, (-1, d_pre.shape[-1]))
    return tf.reshape(tf.matmul(flat, kernel, transpose_b=True), tf.shape(inputs))


@tf.RegisterGradient("KerasSeqLstm")
def _lstm_gradient(op, d_h, _, __, d_h_last, d_c_last):
    inputs, kernel, _, recurrent_kernel, peepholes, h0, c0 = op.inputs
    h, c, gates = op.outputs[:3]
    if not op.get_attr("save_gates"):
        h, c, gates = library().keras_seq_lstm(*op.inputs, save_gates=True)[:3]
    d_pre, *rest = library().keras_seq_lstm_grad(
        inputs,
        kernel,
        recurrent_kernel,
        peepholes,
        h0,
        c0,
        h,
        c,
        gates,
        _each_step(d_h, h),
        _or_zeros(d_h_last, h0),
        _or_zeros(d_c_last, c0),
    )
    return [_input_gradient(op, d_pre, kernel), *rest]


@tf.RegisterGradient("KerasSeqGru")
def _gru_gradient(op, d_h, _, d_h_last):
    inputs, kernel, _, recurrent_kernel, _, h0 = op.inputs
    h, saved = op.outputs[:2]
    if not op.get_attr("save_gates"):
        h, saved = library().keras_seq_gru(*op.inputs, save_gates=True)[:2]
    d_pre, *rest = library().keras_seq_gru_grad(
        inputs,
        kernel,
        recurrent_kernel,
        h0,
        h,
        saved,
        _each_step(d_h, h),
        _or_zeros(d_h_last, h0),
    )
    return [_input_gradient(op, d_pre, kernel), *rest]


@tf.RegisterGradient("KerasSeqRnn")
def _rnn_gradient(op, d_h, d_h_last):
    inputs, kernel, _, recurrent_kernel, h0 = op.inputs
    h = op.outputs[0]
    d_pre, *rest = library().keras_seq_rnn_grad(
        inputs,
        kernel,
        recurrent_kernel,
        h0,
        h,
        _each_step(d_h, h),
        _or_zeros(d_h_last, h0),
    )
    return [_input_gradient(op, d_pre, kernel), *rest]
