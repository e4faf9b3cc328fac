import keras

from keras_seq.layers.rnn.base_rnn_cell import BaseRNNCell


@keras.saving.register_keras_serializable(package="keras_seq")
class SimpleRNNCell(BaseRNNCell):
    """The vanilla (Elman) recurrent cell.

    `h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`; the
    output is the new state. Weights are laid out as `keras.layers.SimpleRNNCell`
    (`kernel` `(input_dim, units)`, `recurrent_kernel` `(units, units)`, `bias`
    `(units,)`), so `set_weights` moves weights both ways.

    Args:
        units: Positive integer, size of the state.
        activation: `"tanh"` (default) or `"relu"` (or any Keras activation).
        use_bias: Whether to add `bias`. Default `True`.
        kernel_initializer: Default `"glorot_uniform"`.
        recurrent_initializer: Default `"orthogonal"`.
        bias_initializer: Default `"zeros"`.
        kernel_regularizer: Optional.
        recurrent_regularizer: Optional.
        bias_regularizer: Optional.
        kernel_constraint: Optional.
        recurrent_constraint: Optional.
        bias_constraint: Optional.
        dropout: Float in [0, 1), fraction of input units dropped; one mask per
            sequence. Default 0.
        recurrent_dropout: Float in [0, 1), fraction of `h_{t-1}` dropped before
            the recurrent matmul; one mask per sequence. Default 0.
        seed: Seed for the dropout masks.

    Call arguments:
        inputs: `(batch, input_dim)` float tensor.
        states: `[h_{t-1}]`, `(batch, units)`.
        training: Whether dropout is active.

    Returns:
        `(h_t, [h_t])`.

    Example:

    >>> import numpy as np
    >>> import keras
    >>> from keras_seq.layers import SimpleRNNCell
    >>> cell = SimpleRNNCell(4)
    >>> layer = keras.layers.RNN(cell)
    >>> tuple(layer(np.ones((2, 3, 5), "float32")).shape)
    (2, 4)

    Reference:
        Elman, "Finding structure in time", Cognitive Science 1990.
    """

    num_gates = 1
    additive_gates = True
    # Its steps are too small for XLA to pay: measured on bench/rnn.py (CPU),
    # training ~10 % slower compiled, prediction ~8 % faster.
    compile_loop_by_default = False
    _state_count = 1

    def gates(self, projected, recurrent, states, h_in):
        z = projected if recurrent is None else projected + recurrent
        h = self.activation(z)
        return h, [h]
