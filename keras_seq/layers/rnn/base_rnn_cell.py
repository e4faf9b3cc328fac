"""The shared skeleton of the keras_seq recurrent cells (not exported)."""

import contextlib
import weakref

import keras
from keras import ops

from keras_seq.utils import checks
from keras_seq.utils.compat import DropoutRNNCell
from keras_seq.utils.exporting import is_exporting
from keras_seq.utils.initializers import fresh

# cell -> {name: tensor}: what `gates` reads from the cell's variables, read
# once for a whole sequence while a layer's loop runs (`BaseRNNCell._reading`).
_READ = weakref.WeakKeyDictionary()


class BaseRNNCell(keras.layers.Layer, DropoutRNNCell):
    """Weights, dropout and the cell protocol shared by the keras_seq cells.

    A cell is split into two halves so that the recurrent layers can hoist the
    input half out of the time loop:

    - `input_projection(x)`: `x @ kernel + input_bias`, for `x` of shape
      `(batch, input_dim)` or `(batch, time, input_dim)`.
    - `recurrent_step(projected, states, recurrent_mask)`: everything that
      depends on the previous state.

    `call()` is exactly `recurrent_step(input_projection(x), ...)`, so the cell
    used in `keras.layers.RNN` and the fast layers compute the same function.
    Subclasses set `num_gates`, `_state_count`, build their bias and define
    `recurrent_step`.

    Inheriting Keras's `DropoutRNNCell` mixin lets `keras.layers.RNN` create the
    dropout masks once per sequence, before its loop (required on JAX).
    """

    num_gates = 1
    _state_count = 1
    # Whether the TensorFlow layers compile their loops with XLA when
    # `jit_compile="auto"` (see `keras_seq/layers/rnn/tf_recurrence.py`).
    compile_loop_by_default = True
    # Whether `gates(p, a, ...)` depends on `p` and `a` only through `p + a`;
    # then `gates(p + a, None, ...)` must give the same result (the TensorFlow
    # loop adds once and its backward loop keeps one array, not two).
    additive_gates = False
    # Whether `gates` does no matmul of its own: the JAX loop's gradient
    # (`keras_seq/layers/rnn/jax_recurrence.py`) recomputes each step's gates
    # from the saved pre-activations, which costs little only then.
    elementwise_gates = True

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
        **kwargs,
    ):
        checks.pop_legacy_implementation(kwargs)
        super().__init__(**kwargs)
        self.units = checks.check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = checks.check_rate("dropout", dropout)
        self.recurrent_dropout = checks.check_rate(
            "recurrent_dropout", recurrent_dropout
        )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)

    @property
    def state_size(self):
        if self._state_count == 1:
            return self.units
        return [self.units] * self._state_count

    @property
    def output_size(self):
        return self.units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last dimension of the inputs to `{self.name}` must be "
                f"defined, got input shape {tuple(input_shape)}."
            )
        gate_units = self.num_gates * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, gate_units),
            name="kernel",
            initializer=fresh(self.kernel_initializer, "kernel"),
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, gate_units),
            name="recurrent_kernel",
            initializer=fresh(self.recurrent_initializer, "recurrent_kernel"),
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _bias_shape(self):
        return (self.num_gates * self.units,)

    def _bias_initializer(self):
        return fresh(self.bias_initializer, "bias")

    def _input_bias(self):
        return self.bias

    def input_projection(self, inputs):
        """`inputs @ kernel + input_bias`: `(..., input_dim)` -> `(..., gates * units)`."""
        if len(inputs.shape) == 2 or is_exporting():
            # Exporting (no gradient): a reshape through `ops.shape` does not
            # export to ONNX from JAX with open dimensions.
            projected = ops.matmul(inputs, self.kernel)
        else:
            # One 2-D matmul over all leading positions: on TensorFlow a rank-3
            # matmul is a broadcast batch matmul whose kernel gradient
            # materialises one (input_dim, gates * units) block per time step;
            # on JAX (XLA, CPU) its gradient takes twice as long.
            leading = ops.shape(inputs)[:-1]
            flat = ops.reshape(inputs, (-1, inputs.shape[-1]))
            projected = ops.reshape(
                ops.matmul(flat, self.kernel), (*leading, self.kernel.shape[-1])
            )
        if self.use_bias:
            projected = projected + self._input_bias()
        return projected

    def recurrent_step(self, projected, states, recurrent_mask=None):
        """One step from the projected input; returns `(output, new_states)`."""
        h_in = states[0] if recurrent_mask is None else states[0] * recurrent_mask
        recurrent = ops.matmul(h_in, self._recurrent_matmul_kernel())
        if self._recurrent_bias() is not None:
            recurrent = recurrent + self._recurrent_bias()
        return self.gates(projected, recurrent, states, h_in)

    def _recurrent_matmul_kernel(self):
        return self.recurrent_kernel

    def _recurrent_bias(self):
        """A bias added to the recurrent matmul's result (None: no bias)."""

    def _gate_variables(self):
        """The trainable variables `gates` reads (beyond the two matmuls)."""
        return []

    def gates(self, projected, recurrent, states, h_in):
        """The step given `recurrent = h_in @ _recurrent_matmul_kernel()`
        (`+ _recurrent_bias()` where there is one).

        Returns `(output, new_states)`. `h_in` is `h_{t-1}` after recurrent
        dropout, for gates with a matmul of their own (GRU with
        `reset_after=False`).
        """
        raise NotImplementedError

    def call(self, inputs, states, training=False):
        checks.check_rank("inputs", inputs.shape, 2, "(batch, input_dim)")
        inputs = checks.as_floating("inputs", inputs, self.compute_dtype)
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        recurrent_mask = None
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self.get_recurrent_dropout_mask(states[0])
        output, new_states = self.recurrent_step(
            self.input_projection(inputs), states, recurrent_mask
        )
        if not nested and self._state_count == 1:
            return output, new_states[0]
        return output, new_states

    @contextlib.contextmanager
    def _reading(self):
        """Within it, `_read` computes each value once: a layer's loop on
        PyTorch (eager ops, each costing microseconds of dispatch) reads the
        variables once for all its steps. Not for traced loops: the
        TensorFlow loop's gradient reads the variables inside each step, and
        JAX traces the step once."""
        _READ[self] = {}
        try:
            yield
        finally:
            _READ.pop(self, None)

    def _read(self, name, compute):
        """`compute()`, a value derived from the cell's variables (a cast, a
        slice), once per sequence within `_reading()`, else at each call."""
        kept = _READ.get(self)
        if kept is None:
            return compute()
        if name not in kept:
            kept[name] = compute()
        return kept[name]

    def get_initial_state(self, batch_size=None):
        return [
            ops.zeros((batch_size, self.units), dtype=self.compute_dtype)
            for _ in range(self._state_count)
        ]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "recurrent_initializer": keras.initializers.serialize(
                    self.recurrent_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "recurrent_regularizer": keras.regularizers.serialize(
                    self.recurrent_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(
                    self.kernel_constraint
                ),
                "recurrent_constraint": keras.constraints.serialize(
                    self.recurrent_constraint
                ),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config
