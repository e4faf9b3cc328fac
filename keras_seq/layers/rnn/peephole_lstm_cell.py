import functools

import keras
from keras import ops

from keras_seq.layers.rnn.base_rnn_cell import BaseRNNCell
from keras_seq.utils.initializers import fresh


@keras.saving.register_keras_serializable(package="keras_seq")
class PeepholeLSTMCell(BaseRNNCell):
    """LSTM cell with optional diagonal peephole connections.

    With `z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias` split into the
    gate blocks `z_i, z_f, z_c, z_o` (Keras order i, f, c, o):

    ```
    i_t = sigmoid(z_i + p_i * c_{t-1})
    f_t = sigmoid(z_f + p_f * c_{t-1})
    c_t = f_t * c_{t-1} + i_t * tanh(z_c)
    o_t = sigmoid(z_o + p_o * c_t)
    h_t = o_t * tanh(c_t)
    ```

    The input and forget gates look at the previous cell state, the output gate
    at the new one (Gers & Schmidhuber 2000), through three `(units,)` vectors
    `input_gate_peephole_weights` (`p_i`), `forget_gate_peephole_weights` (`p_f`)
    and `output_gate_peephole_weights` (`p_o`), as in Sak et al. 2014 and
    `tfa.rnn.PeepholeLSTMCell`. With `use_peepholes=False` the cell is
    `keras.layers.LSTMCell` exactly, with the same weight layout.

    Args:
        units: Positive integer, size of `h` and `c`.
        activation: Applied to the candidate and to `c_t`. Default `"tanh"`.
        recurrent_activation: Gate activation. Default `"sigmoid"`.
        use_bias: Default `True`.
        use_peepholes: Whether to add the peephole terms. Default `True`.
        kernel_initializer: Default `"glorot_uniform"`.
        recurrent_initializer: Default `"orthogonal"`.
        bias_initializer: Default `"zeros"`.
        peephole_initializer: Initializer of the three peephole vectors.
            Default `"glorot_uniform"` (the kernel initializer, as in TFA).
        unit_forget_bias: Add 1 to the forget-gate bias at initialization
            (Jozefowicz et al. 2015). Default `True`, as Keras.
        use_recurrent_bias: Two bias vectors, `bias` of shape
            `(2, 4 * units)`: row 0 added to the input projection, row 1 to
            the recurrent one, as PyTorch's `nn.LSTM` (`bias_ih`, `bias_hh`),
            cuDNN and Zaremba et al.'s Torch code. The cell computes the same
            function of the summed rows, but each row receives the whole bias
            gradient: plain SGD moves the sum twice as far, and a global
            gradient norm counts it twice. Each row is drawn by
            `bias_initializer`; `unit_forget_bias` adds 1 to row 0. Default
            False (one `(4 * units,)` bias, as Keras).
        kernel_regularizer: Optional.
        recurrent_regularizer: Optional.
        bias_regularizer: Optional.
        peephole_regularizer: Optional.
        kernel_constraint: Optional.
        recurrent_constraint: Optional.
        bias_constraint: Optional.
        peephole_constraint: Optional.
        dropout: Float in [0, 1), fraction of input units dropped; one mask
            per sequence. Default 0.
        recurrent_dropout: Float in [0, 1), fraction of `h_{t-1}` dropped
            (one mask per sequence). Default 0.
        seed: Seed for the dropout masks.

    Call arguments:
        inputs: `(batch, input_dim)` float tensor.
        states: `[h_{t-1}, c_{t-1}]`, each `(batch, units)`.
        training: Whether dropout is active.

    Returns:
        `(h_t, [h_t, c_t])`.

    Example:

    >>> import numpy as np
    >>> import keras
    >>> from keras_seq.layers import PeepholeLSTMCell
    >>> cell = PeepholeLSTMCell(4)
    >>> layer = keras.layers.RNN(cell, return_state=True)
    >>> out, h, c = layer(np.ones((2, 3, 5), "float32"))
    >>> tuple(out.shape), tuple(c.shape)
    ((2, 4), (2, 4))

    References:
        Gers & Schmidhuber, "Recurrent nets that time and count", IJCNN 2000.
        Sak, Senior & Beaufays, "Long short-term memory recurrent neural
        network architectures for large scale acoustic modeling", 2014.
    """

    num_gates = 4
    additive_gates = True
    _state_count = 2

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        use_peepholes=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        peephole_initializer="glorot_uniform",
        unit_forget_bias=True,
        use_recurrent_bias=False,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        peephole_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        peephole_constraint=None,
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
        self.use_peepholes = bool(use_peepholes)
        self.peephole_initializer = keras.initializers.get(peephole_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.use_recurrent_bias = bool(use_recurrent_bias)
        self.peephole_regularizer = keras.regularizers.get(peephole_regularizer)
        self.peephole_constraint = keras.constraints.get(peephole_constraint)

    def build(self, input_shape):
        super().build(input_shape)
        if self.use_peepholes:
            for gate in ("input", "forget", "output"):
                weight = self.add_weight(
                    shape=(self.units,),
                    name=f"{gate}_gate_peephole_weights",
                    initializer=fresh(
                        self.peephole_initializer, f"{gate}_gate_peephole_weights"
                    ),
                    regularizer=self.peephole_regularizer,
                    constraint=self.peephole_constraint,
                )
                setattr(self, f"{gate}_gate_peephole_weights", weight)

    def _bias_shape(self):
        if self.use_recurrent_bias:
            return (2, 4 * self.units)  # input bias, recurrent bias
        return (4 * self.units,)

    def _bias_initializer(self):
        base = super()._bias_initializer()
        if not self.unit_forget_bias:
            return base
        units = self.units

        def initializer(shape, dtype=None):
            if len(shape) == 2:
                # Both rows in one draw (a seeded initializer repeats its
                # values call after call); the input row's forget gate at 1.
                values = base(shape, dtype=dtype)
                forget = ops.arange(4 * units) // units == 1
                row = ops.where(forget, ops.ones((), dtype=values.dtype), values[0])
                return ops.stack([row, values[1]])
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return initializer

    def _input_bias(self):
        if self.use_recurrent_bias and self.bias is not None:
            # Both rows add to the same pre-activations: summed once here,
            # outside the time loop; each row still gets the whole gradient.
            return self.bias[0] + self.bias[1]
        return self.bias

    def _gate_variables(self):
        if not self.use_peepholes:
            return []
        return [
            weight
            for gate in ("input", "forget", "output")
            if (weight := getattr(self, f"{gate}_gate_peephole_weights")).trainable
        ]

    def _peepholes(self, dtype):
        # Cast explicitly: the TensorFlow loop's backward pass reads the
        # (float32) variables outside Keras's autocast scope.
        return tuple(
            self._read(gate, functools.partial(ops.cast, weights, dtype))
            for gate, weights in (
                ("input_peephole", self.input_gate_peephole_weights),
                ("forget_peephole", self.forget_gate_peephole_weights),
                ("output_peephole", self.output_gate_peephole_weights),
            )
        )

    def gates(self, projected, recurrent, states, h_in):
        if (
            keras.backend.backend() == "torch"
            and self.activation is keras.activations.tanh
            and self.recurrent_activation is keras.activations.sigmoid
        ):
            return self._torch_gates(projected, recurrent, states)
        c_tm1 = states[1]
        z = projected if recurrent is None else projected + recurrent
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        if self.use_peepholes:
            p_i, p_f, p_o = self._peepholes(c_tm1.dtype)
            z_i = z_i + p_i * c_tm1
            z_f = z_f + p_f * c_tm1
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_c)
        if self.use_peepholes:
            z_o = z_o + p_o * c
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def _torch_gates(self, projected, recurrent, states):
        """`gates` with the default activations in PyTorch's own functions:
        the loop on PyTorch runs each step's ops eagerly, and each Keras op
        adds microseconds of checks and conversions to the microsecond the
        kernel takes at batch 1."""
        import torch

        c_tm1 = states[1]
        z = projected if recurrent is None else projected + recurrent
        z_i, z_f, z_c, z_o = torch.chunk(z, 4, dim=-1)
        if self.use_peepholes:
            p_i, p_f, p_o = self._peepholes(c_tm1.dtype)
            z_i = torch.addcmul(z_i, p_i, c_tm1)
            z_f = torch.addcmul(z_f, p_f, c_tm1)
        i = torch.sigmoid(z_i)
        f = torch.sigmoid(z_f)
        c = torch.addcmul(f * c_tm1, i, torch.tanh(z_c))
        if self.use_peepholes:
            z_o = torch.addcmul(z_o, p_o, c)
        o = torch.sigmoid(z_o)
        h = o * torch.tanh(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(
                    self.recurrent_activation
                ),
                "use_peepholes": self.use_peepholes,
                "peephole_initializer": keras.initializers.serialize(
                    self.peephole_initializer
                ),
                "unit_forget_bias": self.unit_forget_bias,
                "use_recurrent_bias": self.use_recurrent_bias,
                "peephole_regularizer": keras.regularizers.serialize(
                    self.peephole_regularizer
                ),
                "peephole_constraint": keras.constraints.serialize(
                    self.peephole_constraint
                ),
            }
        )
        return config
