import keras
from keras import ops

from keras_seq.layers.rnn.base_rnn_cell import BaseRNNCell


@keras.saving.register_keras_serializable(package="keras_seq")
class GRUCell(BaseRNNCell):
    """Gated recurrent unit with an explicit reset gate in either placement.

    With the gate blocks in Keras order z (update), r (reset), h (candidate):

    ```
    z_t = sigmoid(x W_z + h_{t-1} U_z + b_z)
    r_t = sigmoid(x W_r + h_{t-1} U_r + b_r)
    reset_after=False:  h~ = tanh(x W_h + (r_t * h_{t-1}) U_h + b_h)
    reset_after=True:   h~ = tanh(x W_h + b_h + r_t * (h_{t-1} U_h + b_rh))
    h_t = z_t * h_{t-1} + (1 - z_t) * h~
    ```

    `reset_after=False` is the form of Cho et al. 2014 and most course notes;
    `reset_after=True` is the cuDNN / PyTorch / Keras default, with a second
    (recurrent) bias row: `bias` has shape `(2, 3 * units)` (input row, recurrent
    row) exactly as `keras.layers.GRUCell`, and `(3 * units,)` otherwise.

    Args:
        units: Positive integer, size of the state.
        activation: Candidate activation. Default `"tanh"`.
        recurrent_activation: Gate activation. Default `"sigmoid"`.
        use_bias: Default `True`.
        reset_after: Where the reset gate is applied (see above). Default `True`.
        kernel_initializer: Default `"glorot_uniform"`.
        recurrent_initializer: Default `"orthogonal"`.
        bias_initializer: Default `"zeros"`.
        kernel_regularizer: Optional.
        recurrent_regularizer: Optional.
        bias_regularizer: Optional.
        kernel_constraint: Optional.
        recurrent_constraint: Optional.
        bias_constraint: Optional.
        dropout: Float in [0, 1), fraction of input units dropped; one mask
            per sequence. Default 0.
        recurrent_dropout: Float in [0, 1), fraction of `h_{t-1}` dropped
            (before the recurrent matmuls; one mask per sequence). Default 0.
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
    >>> from keras_seq.layers import GRUCell
    >>> cell = GRUCell(4, reset_after=False)
    >>> tuple(keras.layers.RNN(cell)(np.ones((2, 3, 5), "float32")).shape)
    (2, 4)

    References:
        Cho et al., "Learning phrase representations using RNN encoder-decoder
        for statistical machine translation", EMNLP 2014.
    """

    num_gates = 3
    _state_count = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        reset_after=True,
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
        **kwargs,
    ):
        super().__init__(
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
            **kwargs,
        )
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        if self.reset_after:
            return (2, 3 * self.units)
        return (3 * self.units,)

    def _input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def _recurrent_matmul_kernel(self):
        # reset_after=False needs a second matmul, (r * h) @ U_h, in the gates.
        if self.reset_after:
            return self.recurrent_kernel
        return self.recurrent_kernel[:, : 2 * self.units]

    def _recurrent_bias(self):
        # reset_after=True: b_rh is inside r * (h U + b_rh), added to the matmul.
        if self.reset_after and self.use_bias:
            return self.bias[1]
        return None

    @property
    def elementwise_gates(self):
        return self.reset_after

    def _gate_variables(self):
        if self.reset_after or not self.recurrent_kernel.trainable:
            return []
        return [self.recurrent_kernel]

    def gates(self, projected, recurrent, states, h_in):
        h_tm1 = states[0]
        x_z, x_r, x_h = ops.split(projected, 3, axis=-1)
        if self.reset_after:
            u_z, u_r, u_h = ops.split(recurrent, 3, axis=-1)
            z = self.recurrent_activation(x_z + u_z)
            r = self.recurrent_activation(x_r + u_r)
            candidate = self.activation(x_h + r * u_h)
        else:
            u_z, u_r = ops.split(recurrent, 2, axis=-1)
            z = self.recurrent_activation(x_z + u_z)
            r = self.recurrent_activation(x_r + u_r)
            # Cast explicitly: the TensorFlow loop's backward pass reads the
            # (float32) variable outside Keras's autocast scope.
            u_h = self._read(
                "candidate_kernel",
                lambda: ops.cast(
                    self.recurrent_kernel[:, 2 * self.units :], h_in.dtype
                ),
            )
            candidate = self.activation(x_h + ops.matmul(r * h_in, u_h))
        h = z * h_tm1 + (1.0 - z) * candidate
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(
                    self.recurrent_activation
                ),
                "reset_after": self.reset_after,
            }
        )
        return config
