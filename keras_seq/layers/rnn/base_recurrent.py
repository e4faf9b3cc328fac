"""The shared fast recurrent layer behind SimpleRNN, LSTM and GRU (not exported)."""

import contextlib

import keras
from keras import ops, tree

from keras_seq.utils import checks
from keras_seq.utils.exporting import is_exporting

_CELL_BASE_KEYS = ("name", "trainable", "dtype")


def time_loop(step, carry, inputs, return_sequences, unroll=False):
    """Runs `carry, y = step(carry, inputs_t)` over time-major `inputs`.

    Args:
        step: Function of `(carry, inputs_t)` returning `(carry, y_t)`.
        carry: Tuple of tensors.
        inputs: Tuple of `(time, batch, ...)` tensors.
        return_sequences: Whether to stack the `y_t` into `(time, batch, ...)`.
        unroll: Unroll the loop in Python (needs a static number of steps).

    Returns:
        `(final_carry, ys)`, `ys` is None unless `return_sequences`.

    `keras.ops.scan` (`jax.lax.scan` on JAX), or a Python loop with `unroll`
    and on PyTorch. The TensorFlow layers use `tf_recurrence.TFRecurrence`
    instead.
    """
    if unroll:
        steps = inputs[0].shape[0]
        if steps is None:
            raise ValueError(
                "`unroll=True` needs a static number of time steps, got input "
                f"shape {tuple(inputs[0].shape)}."
            )
        ys = []
        for t in range(steps):
            carry, y = step(carry, tuple(x[t] for x in inputs))
            ys.append(y)
        return carry, (ops.stack(ys) if return_sequences else None)

    if keras.backend.backend() == "torch":
        return _torch_time_loop(step, carry, inputs, return_sequences)
    if is_exporting() and keras.backend.backend() == "tensorflow":
        return _export_time_loop(step, carry, inputs, return_sequences)
    carry, ys = ops.scan(step, carry, inputs)
    return carry, (ys if return_sequences else None)


def _jax_on_cpu():
    """Whether Keras runs on JAX and JAX computes on the CPU."""
    if keras.backend.backend() != "jax":
        return False
    import jax

    return jax.default_backend() == "cpu"


def _torch_time_loop(step, carry, inputs, return_sequences):
    """The loop on PyTorch, eager as Keras's own: the inputs split into
    their steps once (`torch.unbind`, whose gradient is one `stack`).
    `keras.ops.scan` indexes them step by step instead, and the gradient
    of each index is a zero tensor the size of all the inputs: a training
    step 2.7 times as long at batch 64 x 100 steps."""
    import torch

    steps = [torch.unbind(ops.convert_to_tensor(x), 0) for x in inputs]
    ys = []
    for xs in zip(*steps):
        carry, y = step(carry, xs)
        if return_sequences:
            ys.append(y)
    if not return_sequences:
        return carry, None
    if not ys:
        raise ValueError("Expected at least one time step, got 0.")
    return carry, keras.tree.map_structure(lambda *ts: torch.stack(ts), *ys)


def _export_time_loop(step, carry, inputs, return_sequences):
    """`time_loop` as ONNX and LiteRT convert it (TensorFlow, under
    `keras_seq.export.exportable()`): a while loop that slices its inputs and
    concatenates its outputs, no TensorArray (`ops.scan` has them)."""
    import tensorflow as tf

    # The first step outside the loop gives the outputs' shapes.
    carry, y = step(carry, tuple(x[0] for x in inputs))
    carry = tuple(carry)
    flat = [tf.expand_dims(y_t, 0) for y_t in tree.flatten(y)]
    if not return_sequences:
        flat = []

    def body(t, carry, flat):
        new_carry, y = step(carry, tuple(x[t] for x in inputs))
        if return_sequences:
            ys = tree.flatten(y)
            flat = [tf.concat([a, b[None]], 0) for a, b in zip(flat, ys)]
        return t + 1, tuple(new_carry), flat

    steps = tf.shape(inputs[0])[0]
    _, carry, flat = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(1), carry, flat),
        shape_invariants=(
            tf.TensorShape([]),
            tuple(tf.TensorShape([None, *c.shape[1:]]) for c in carry),
            [tf.TensorShape([None, None, *a.shape[2:]]) for a in flat],
        ),
    )
    if not return_sequences:
        return carry, None
    return carry, tree.pack_sequence_as(y, flat)


class BaseRecurrent(keras.layers.Layer):
    """A recurrent layer whose loop does the two matmuls and `cell.gates`.

    On TensorFlow the loop is `TFRecurrence` (compiled forward and backward
    loops, weight gradients batched after the loop); elsewhere `ops.scan`
    after one input-projection matmul for all steps. Masked steps carry the state unchanged and output the previous
    output (or zeros with `zero_output_for_mask=True`), as `keras.layers.RNN`.
    Subclasses create `self.cell` and may offer a fused kernel through
    `_fused_call`.
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        jit_compile="auto",
        use_cudnn=None,
        **kwargs,
    ):
        checks.pop_legacy_implementation(kwargs)
        super().__init__(**kwargs)
        if use_cudnn not in (None, True, False, "auto"):
            raise ValueError(
                f"Argument `use_cudnn` of `{type(self).__name__}` must be True, "
                f"False or 'auto', got {use_cudnn!r}."
            )
        if use_cudnn is not None:
            # Only layers with a fused kernel (LSTM, GRU) have the attribute.
            self.use_cudnn = use_cudnn
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        if jit_compile not in (True, False, "auto"):
            raise ValueError(
                f"Argument `jit_compile` of `{type(self).__name__}` must be True, "
                f"False or 'auto', got {jit_compile!r}."
            )
        self.jit_compile = jit_compile
        self._tf_recurrences = {}
        self.supports_masking = True
        self.states = None

    @property
    def units(self):
        return self.cell.units

    @property
    def state_size(self):
        size = self.cell.state_size
        return [size] if isinstance(size, int) else list(size)

    def build(self, sequences_shape, initial_state_shape=None):
        checks.check_rank("sequences", sequences_shape, 3, "(batch, time, features)")
        if not self.cell.built:
            self.cell.build((sequences_shape[0], sequences_shape[2]))
        if self.stateful and self.states is None:
            batch_size = sequences_shape[0]
            if batch_size is None:
                raise ValueError(
                    "A stateful recurrent layer needs a static batch size, got "
                    f"sequences shape {tuple(sequences_shape)}. Pass "
                    "`batch_shape=` to `keras.Input`."
                )
            self.states = [
                self.add_weight(
                    shape=(batch_size, size),
                    initializer="zeros",
                    trainable=False,
                    name=f"state_{i}",
                )
                for i, size in enumerate(self.state_size)
            ]

    def reset_state(self):
        if self.states is not None:
            for state in self.states:
                state.assign(ops.zeros(state.shape, state.dtype))

    def reset_states(self):
        self.reset_state()

    def get_initial_state(self, batch_size):
        return self.cell.get_initial_state(batch_size=batch_size)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        if self.return_sequences:
            output_shape = (batch, steps, self.units)
        else:
            output_shape = (batch, self.units)
        if self.return_state:
            return (output_shape, *[(batch, size) for size in self.state_size])
        return output_shape

    def compute_mask(self, sequences, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def _check_initial_state(self, initial_state, sequences):
        states = (
            list(initial_state) if tree.is_nested(initial_state) else [initial_state]
        )
        if len(states) != len(self.state_size):
            raise ValueError(
                f"Argument `initial_state` of `{self.name}` must be a list of "
                f"{len(self.state_size)} tensors of shape (batch, {self.units}), "
                f"got {len(states)} tensors."
            )
        batch = sequences.shape[0]
        for state, size in zip(states, self.state_size):
            shape = tuple(state.shape)
            if (
                len(shape) != 2
                or shape[1] != size
                or (batch is not None and shape[0] is not None and shape[0] != batch)
            ):
                raise ValueError(
                    f"Argument `initial_state` of `{self.name}` must hold tensors "
                    f"of shape ({batch}, {size}), got shape {shape}."
                )
        return [ops.cast(state, self.compute_dtype) for state in states]

    def _fused_call(self, sequences, initial_state, mask):
        """Returns `(last_output, outputs, states)` from a fused kernel, or None."""
        return

    def _native_call(self, sequences, initial_state, mask, recurrent_mask):
        """TensorFlow only: `(last_output, outputs, states)` from the C++ op
        of the whole loop (`keras_seq.layers.rnn.native_rnn`), or None."""
        from keras_seq.layers.rnn import native_rnn

        return native_rnn.call(self, sequences, initial_state, mask, recurrent_mask)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        checks.check_rank("sequences", sequences.shape, 3, "(batch, time, features)")
        sequences = checks.as_floating("sequences", sequences, self.compute_dtype)
        if sequences.shape[1] == 0:
            raise ValueError(
                f"Argument `sequences` of `{self.name}` must have at least one "
                f"time step, got shape {tuple(sequences.shape)}. Pad empty "
                "sequences to one step and mask it out."
            )
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        mask = checks.check_mask(mask, sequences)
        batch_size = ops.shape(sequences)[0]
        if initial_state is not None:
            initial_state = self._check_initial_state(initial_state, sequences)
        elif self.stateful:
            initial_state = [state.value for state in self.states]
        else:
            initial_state = self.get_initial_state(batch_size)

        cell = self.cell
        if training and cell.dropout > 0:
            # One mask per sequence, shared by all steps (Gal & Ghahramani).
            dp_mask = keras.random.dropout(
                ops.ones_like(sequences[:, 0, :]),
                rate=cell.dropout,
                seed=cell.seed_generator,
            )
            sequences = sequences * ops.expand_dims(dp_mask, 1)
        recurrent_mask = None
        if training and cell.recurrent_dropout > 0:
            recurrent_mask = keras.random.dropout(
                ops.ones_like(initial_state[0]),
                rate=cell.recurrent_dropout,
                seed=cell.seed_generator,
            )

        fused = None
        if (
            getattr(self, "use_cudnn", None) is not False
            and recurrent_mask is None
            and not self.zero_output_for_mask
        ):
            fused = self._fused_call(sequences, initial_state, mask)
        if fused is None and getattr(self, "use_cudnn", None) is True:
            raise ValueError(
                f"`use_cudnn=True` was given to `{self.name}`, but the fused "
                "cuDNN kernel cannot run here (it needs the TensorFlow backend "
                "with a GPU, no peepholes, tanh / sigmoid, a bias, no recurrent "
                "dropout, not unrolled, a right-padded mask; or for `LSTM` and "
                "`GRU(reset_after=True)`, the PyTorch backend with a GPU and no "
                "mask). Pass "
                "`use_cudnn='auto'` to fall back to the compiled loop."
            )
        if fused is None and keras.backend.backend() == "tensorflow":
            fused = self._native_call(sequences, initial_state, mask, recurrent_mask)
        if fused is not None:
            last_output, outputs, states = fused
        else:
            last_output, outputs, states = self._loop(
                sequences, initial_state, mask, recurrent_mask
            )

        if self.stateful:
            for variable, state in zip(self.states, states):
                variable.assign(ops.cast(state, variable.dtype))
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output, *states)
        return output

    def _gate_step(self, projected_t, recurrent_t, carry, step_mask, h_in):
        """The step after both matmuls, with masking: `(carry, output)`.

        `carry` is the cell states, plus the previous output when masked.
        """
        num_states = len(self.state_size)
        states = list(carry[:num_states])
        output, new_states = self.cell.gates(projected_t, recurrent_t, states, h_in)
        if step_mask is None:
            return tuple(new_states), output
        step_mask = ops.expand_dims(step_mask, -1)
        new_states = [
            ops.where(step_mask, new, old) for new, old in zip(new_states, states)
        ]
        previous = ops.zeros_like(output) if self.zero_output_for_mask else carry[-1]
        output = ops.where(step_mask, output, previous)
        return (*new_states, output), output

    def _tf_recurrence(self):
        from keras_seq.layers.rnn.tf_recurrence import TFRecurrence

        exporting = is_exporting()
        jit_compile = self.jit_compile
        if jit_compile == "auto":
            jit_compile = self.cell.compile_loop_by_default
        jit_compile = jit_compile and not exporting
        # Traced functions read these attributes: one recurrence per setting.
        key = (self.return_sequences, self.zero_output_for_mask, jit_compile, exporting)
        if key not in self._tf_recurrences:
            self._tf_recurrences[key] = TFRecurrence(
                self._gate_step,
                return_sequences=self.return_sequences,
                additive_gates=self.cell.additive_gates,
                jit_compile=jit_compile,
                tensor_arrays=not exporting,
            )
        return self._tf_recurrences[key]

    def _loop(self, sequences, initial_state, mask, recurrent_mask):
        cell = self.cell
        # Time-major: (time, batch, features), mask (time, batch).
        inputs = (ops.transpose(sequences, (1, 0, 2)),)
        if mask is not None:
            inputs = (inputs[0], ops.transpose(mask, (1, 0)))
        if self.go_backwards:
            inputs = tuple(ops.flip(x, axis=0) for x in inputs)

        kernel = cell._recurrent_matmul_kernel()
        carry = tuple(initial_state)
        if mask is not None:
            carry = carry + (ops.zeros_like(initial_state[0]),)
        if keras.backend.backend() == "tensorflow" and not self.unroll:
            from keras_seq.layers.rnn.tf_recurrence import gradient_may_be_taken

            final, outputs = self._tf_recurrence()(
                inputs[0],
                cell.kernel,
                cell._input_bias() if cell.use_bias else None,
                kernel,
                carry,
                recurrent_bias=cell._recurrent_bias(),
                mask=inputs[1] if mask is not None else None,
                recurrent_mask=recurrent_mask,
                gate_variables=cell._gate_variables(),
                save_for_backward=gradient_may_be_taken(),
            )
        elif _jax_on_cpu() and not self.unroll and cell.elementwise_gates:
            from keras_seq.layers.rnn.jax_recurrence import JaxRecurrence

            recurrence = JaxRecurrence(
                self._gate_step,
                return_sequences=self.return_sequences,
                additive_gates=cell.additive_gates,
                variables=cell.weights,
            )
            final, outputs = recurrence(
                inputs[0],
                ops.convert_to_tensor(cell.kernel),
                cell._input_bias() if cell.use_bias else None,
                ops.convert_to_tensor(kernel),
                carry,
                mask=inputs[1] if mask is not None else None,
                recurrent_mask=recurrent_mask,
                gate_variables=cell._gate_variables(),
                recurrent_bias=cell._recurrent_bias(),
            )
        else:
            # On JAX on the CPU each step projects its own inputs inside the
            # scan, as Keras's layers do: one matmul for all steps before the
            # loop writes a (time, batch, gates * units) tensor that every
            # step reads back, and took 1.8 times as long at batch 64 x 100
            # steps. Elsewhere (PyTorch's eager loop, a GPU's large matmuls)
            # the one matmul before the loop stays.
            per_step = _jax_on_cpu()
            if not per_step:
                inputs = (cell.input_projection(inputs[0]), *inputs[1:])
            # The variables as tensors once, not at each step (each Keras op
            # on a variable converts and checks it: tens of microseconds a
            # step on PyTorch); `h @ kernel` is the backend's own matmul.
            kernel = ops.convert_to_tensor(kernel)
            recurrent_bias = cell._recurrent_bias()
            if recurrent_bias is not None:
                recurrent_bias = ops.convert_to_tensor(recurrent_bias)

            def step(carry, xs):
                h_in = carry[0] if recurrent_mask is None else carry[0] * recurrent_mask
                step_mask = xs[1] if mask is not None else None
                recurrent_t = h_in @ kernel
                if recurrent_bias is not None:
                    recurrent_t = recurrent_t + recurrent_bias
                projected = cell.input_projection(xs[0]) if per_step else xs[0]
                return self._gate_step(projected, recurrent_t, carry, step_mask, h_in)

            # PyTorch runs each step's ops eagerly: what the gates derive from
            # the variables is computed once (JAX traces the step once anyway).
            eager = keras.backend.backend() == "torch"
            with cell._reading() if eager else contextlib.nullcontext():
                final, outputs = time_loop(
                    step, carry, inputs, self.return_sequences, unroll=self.unroll
                )
        num_states = len(initial_state)
        states = list(final[:num_states])
        # Without a mask the output of the last step is the new `h` (state 0).
        last_output = final[-1] if mask is not None else states[0]
        if outputs is not None:
            outputs = ops.transpose(outputs, (1, 0, 2))
        return last_output, outputs, states

    def _cell_config(self):
        config = self.cell.get_config()
        for key in _CELL_BASE_KEYS:
            config.pop(key, None)
        return config

    def get_config(self):
        config = super().get_config()
        config.update(self._cell_config())
        config.update(
            {
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "jit_compile": self.jit_compile,
            }
        )
        if hasattr(self, "use_cudnn"):
            config["use_cudnn"] = self.use_cudnn
        return config
