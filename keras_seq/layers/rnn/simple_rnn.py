import keras

from keras_seq.layers.rnn import torch_fused
from keras_seq.layers.rnn.base_recurrent import BaseRecurrent
from keras_seq.layers.rnn.simple_rnn_cell import SimpleRNNCell


@keras.saving.register_keras_serializable(package="keras_seq")
class SimpleRNN(BaseRecurrent):
    """Fast vanilla RNN layer: `h_t = activation(x_t W + h_{t-1} U + b)`.

    A drop-in for `keras.layers.SimpleRNN` (same arguments and weight layout).
    How the loop runs: docs/layers.md. On TensorFlow on a CPU, with tanh, it
    is a C++ op whose threads split each step by units (float32, no mask, no
    recurrent dropout: `keras_seq.layers.rnn.native_rnn`), else a loop of
    TensorFlow ops. On PyTorch (tanh, no mask, float32, not unrolled) it
    runs `torch.rnn_tanh`, the kernel of `torch.nn.RNN`, instead.

    Args:
        units: Positive integer, size of the state.
        activation: `"tanh"` (default) or `"relu"`.
        use_bias: As `keras_seq.layers.SimpleRNNCell`.
        kernel_initializer: As `keras_seq.layers.SimpleRNNCell`.
        recurrent_initializer: As `keras_seq.layers.SimpleRNNCell`.
        bias_initializer: As `keras_seq.layers.SimpleRNNCell`.
        kernel_regularizer: As `keras_seq.layers.SimpleRNNCell`.
        recurrent_regularizer: As `keras_seq.layers.SimpleRNNCell`.
        bias_regularizer: As `keras_seq.layers.SimpleRNNCell`.
        kernel_constraint: As `keras_seq.layers.SimpleRNNCell`.
        recurrent_constraint: As `keras_seq.layers.SimpleRNNCell`.
        bias_constraint: As `keras_seq.layers.SimpleRNNCell`.
        dropout: As `keras_seq.layers.SimpleRNNCell`.
        recurrent_dropout: As `keras_seq.layers.SimpleRNNCell`.
        seed: As `keras_seq.layers.SimpleRNNCell`.
        return_sequences: Return the whole output sequence
            `(batch, time, units)` instead of the last output. Default False.
        return_state: Also return the final states. Default False.
        go_backwards: Process the sequence backwards and return the reversed
            output sequence (as Keras). Default False.
        stateful: Carry the last state of batch `i` over to batch `i` of the
            next call; needs a static batch size. Under a `tf.distribute`
            strategy, give the per-replica batch size: each replica carries
            the state of the rows it is fed. Default False.
        unroll: Unroll the time loop in Python (short sequences only).
            Default False.
        zero_output_for_mask: Output zeros (instead of the previous output) at
            masked steps. Default False, as Keras.
        jit_compile: TensorFlow only: compile the time loops with XLA (True),
            not (False), or as measured fastest ("auto", default: on a CPU
            the C++ op of `keras_seq.layers.rnn.native_rnn` where it
            applies, else no XLA).

    Call arguments:
        sequences: `(batch, time, features)` float tensor.
        initial_state: Optional list of `[h]`.
        mask: Optional `(batch, time)` boolean tensor, `True` for real steps.
            Masked steps carry the state unchanged; any pattern (right, left
            padding, holes) is allowed. Propagated when `return_sequences`.
        training: Whether dropout is active.

    Returns:
        `(batch, units)` (or `(batch, time, units)` with `return_sequences`),
        followed by the final `[h]` when `return_state`.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import SimpleRNN
    >>> layer = SimpleRNN(8, return_sequences=True)
    >>> tuple(layer(np.ones((2, 5, 3), "float32")).shape)
    (2, 5, 8)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        jit_compile="auto",
        **kwargs,
    ):
        cell = SimpleRNNCell(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="simple_rnn_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            jit_compile=jit_compile,
            **kwargs,
        )

    def _fused_call(self, sequences, initial_state, mask):
        return torch_fused.fused_call(
            self, "simple_rnn", sequences, initial_state, mask
        )
