"""`AttentionWrapper`: a recurrent cell with attention over an encoder memory,
and `AttentionRNN`, the layer that runs it over a sequence."""

import inspect

import keras
from keras import ops, tree

from keras_seq.layers.attention.base_attention import BaseAttention
from keras_seq.layers.rnn.base_recurrent import BaseRecurrent, time_loop
from keras_seq.layers.rnn.base_rnn_cell import BaseRNNCell
from keras_seq.layers.rnn.gru import GRU
from keras_seq.layers.rnn.gru_cell import GRUCell
from keras_seq.layers.rnn.lstm import LSTM
from keras_seq.layers.rnn.peephole_lstm_cell import PeepholeLSTMCell
from keras_seq.layers.rnn.simple_rnn import SimpleRNN
from keras_seq.layers.rnn.simple_rnn_cell import SimpleRNNCell
from keras_seq.utils import checks
from keras_seq.utils.compat import DropoutRNNCell

STYLES = ("luong", "bahdanau")
# The fast layer of each keras_seq cell (its fused kernel where it has one).
_SEQUENCE_LAYERS = {GRUCell: GRU, PeepholeLSTMCell: LSTM, SimpleRNNCell: SimpleRNN}


def _state_sizes(cell):
    sizes = cell.state_size
    return list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]


@keras.saving.register_keras_serializable(package="keras_seq")
class AttentionWrapper(keras.layers.Layer):
    """A recurrent cell that attends over an encoder memory at every step.

    Wraps any keras_seq or Keras cell (`GRUCell`, `PeepholeLSTMCell`,
    `keras.layers.LSTMCell`, ...) and an attention layer
    (`AdditiveAttention`, `LuongAttention`, `DotProductAttention`). With `h`
    the cell's output, `x_t` the step's input and `a` the wrapper's output:

    - `attention_style="luong"` (Luong et al. 2015): `h_t = cell([x_t;
      a_{t-1}])` with input feeding (`[x_t]` without), then the context
      `c_t = attention(h_t, memory)`;
    - `attention_style="bahdanau"` (Bahdanau et al. 2015): the context
      `c_t = attention(h_{t-1}, memory)` first, then `h_t = cell([x_t;
      c_t])` (`input_feeding` does not apply).

    The output is the attentional vector `a_t = tanh(W_c [c_t; h_t])` with
    `attention_layer_size` units (Luong's eq. 5; `W_c` without bias, as
    `tfa.seq2seq.AttentionWrapper`), or the context `c_t` when
    `attention_layer_size` is None. The state is the cell's states followed
    by `a_t`.

    The same wrapper trains teacher-forced inside `AttentionRNN` with
    `model.fit` and decodes one step at a time for `beam_search`,
    `greedy_search` and `sample`: call it with one step's input, the
    states, the memory and its mask.

    Args:
        cell: A recurrent cell: `cell(inputs, states)` returns `(output,
            new_states)` and it has `state_size`.
        attention: A keras_seq attention layer; its query is the cell's
            output `h`, its value the memory.
        attention_style: `"luong"` (default) or `"bahdanau"`.
        attention_layer_size: Units of the attentional layer `W_c`, or None
            to output the context.
        input_feeding: Luong style: feed `a_{t-1}` with the input. Default
            True.

    Call arguments:
        inputs: `(batch, input_dim)`, one step.
        states: The list of states (`get_initial_state`, or a previous call's).
        memory: `(batch, source_length, memory_dim)`, e.g. the encoder outputs.
        memory_mask: Optional `(batch, source_length)` boolean, False at
            padding (its attention weight is exactly 0).
        training: Whether dropout is active.
        return_alignment: Also return the step's attention weights
            `(batch, source_length)`.

    Returns:
        `(output, new_states)`, and the attention weights when asked.

    Example:

    >>> import numpy as np
    >>> from keras_seq import layers
    >>> wrapper = layers.AttentionWrapper(
    ...     layers.GRUCell(8), layers.LuongAttention(), attention_layer_size=8)
    >>> memory = np.ones((2, 5, 8), "float32")
    >>> states = wrapper.get_initial_state(batch_size=2)
    >>> output, states = wrapper(np.ones((2, 4), "float32"), states, memory)
    >>> tuple(output.shape), [tuple(s.shape) for s in states]
    ((2, 8), [(2, 8), (2, 8)])
    """

    def __init__(
        self,
        cell,
        attention,
        attention_style="luong",
        attention_layer_size=None,
        input_feeding=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = keras.saving.deserialize_keras_object(cell)
        if isinstance(attention, dict):
            attention = keras.saving.deserialize_keras_object(attention)
        if not hasattr(cell, "state_size") or not callable(cell):
            raise ValueError(
                "Argument `cell` must be a recurrent cell (a layer with "
                f"`state_size`, e.g. keras_seq.layers.GRUCell), got {cell!r}."
            )
        if not isinstance(attention, BaseAttention):
            raise ValueError(  # noqa: TRY004 - bad input is a ValueError here
                "Argument `attention` must be a keras_seq attention layer "
                "(AdditiveAttention, LuongAttention or DotProductAttention), "
                f"got {attention!r}."
            )
        self.cell = cell
        self._cell_takes_training = (
            isinstance(cell, DropoutRNNCell)
            or "training" in inspect.signature(cell.call).parameters
        )
        self.attention = attention
        self.attention_style = checks.check_choice(
            "attention_style", attention_style, STYLES
        )
        if attention_layer_size is not None:
            attention_layer_size = checks.check_positive_int(
                "attention_layer_size", attention_layer_size
            )
        self.attention_layer_size = attention_layer_size
        self.input_feeding = bool(input_feeding)
        self.attention_layer = None
        if attention_layer_size is not None:
            self.attention_layer = keras.layers.Dense(
                attention_layer_size,
                activation="tanh",
                use_bias=False,
                name="attention_layer",
            )
        self._output_size = attention_layer_size
        # A step's input may carry a Keras mask (an `Embedding(mask_zero=True)`
        # output); `AttentionRNN` applies the sequence's mask itself.
        self.supports_masking = True

    def compute_mask(self, inputs, *args, **kwargs):
        return None

    @property
    def output_size(self):
        if self._output_size is None:
            raise ValueError(
                "The output size of an AttentionWrapper without "
                "`attention_layer_size` is the memory's width: build it (call it "
                "once) first."
            )
        return self._output_size

    @property
    def state_size(self):
        return [*_state_sizes(self.cell), self.output_size]

    def build(self, inputs_shape, states_shape=None, memory_shape=None):
        if memory_shape is None:
            raise ValueError(
                "AttentionWrapper builds on its input and the memory: call it "
                "with `memory` (batch, source_length, memory_dim)."
            )
        checks.check_rank("inputs", inputs_shape, 2, "(batch, input_dim)")
        checks.check_rank(
            "memory", memory_shape, 3, "(batch, source_length, memory_dim)"
        )
        memory_dim = memory_shape[-1]
        if self._output_size is None:
            self._output_size = memory_dim
        units = _state_sizes(self.cell)[0]
        extra = 0
        if self.attention_style == "bahdanau":
            extra = memory_dim
        elif self.input_feeding:
            extra = self._output_size
        cell_input = (inputs_shape[0], inputs_shape[-1] + extra)
        if not self.cell.built:
            self.cell.build(cell_input)
        # Each part may be built already (loaded from a `.keras` file).
        if not self.attention.built:
            self.attention.build((inputs_shape[0], units), memory_shape)
        if self.attention_layer is not None and not self.attention_layer.built:
            self.attention_layer.build((inputs_shape[0], memory_dim + units))
        self.built = True

    def get_initial_state(self, batch_size=None, cell_states=None):
        """Zero states, or `cell_states` (e.g. from the encoder) and a zero `a`."""
        if cell_states is None:
            cell_states = self.cell.get_initial_state(batch_size=batch_size)
        cell_states = list(tree.flatten(cell_states))
        batch = ops.shape(cell_states[0])[0]
        return [*cell_states, ops.zeros((batch, self.output_size), self.compute_dtype)]

    def call(
        self,
        inputs,
        states,
        memory,
        memory_mask=None,
        training=None,
        return_alignment=False,
    ):
        states = list(tree.flatten(states))
        count = len(_state_sizes(self.cell))
        if len(states) != count + 1:
            raise ValueError(
                f"Expected {count + 1} states (the cell's {count} and the "
                f"attentional vector), got {len(states)}."
            )
        cell_states, previous = states[:count], states[count]
        _check_memory_mask(memory, memory_mask)
        if self.attention_style == "bahdanau":
            context, alignment = self.attend(
                cell_states[0], memory, memory_mask, training
            )
            cell_input = ops.concatenate([inputs, context], axis=-1)
        else:
            cell_input = inputs
            if self.input_feeding:
                cell_input = ops.concatenate([inputs, previous], axis=-1)
        cell_states_in = cell_states if count > 1 else cell_states[0]
        if self._cell_takes_training:
            output, new_cell_states = self.cell(
                cell_input, cell_states_in, training=training
            )
        else:
            output, new_cell_states = self.cell(cell_input, cell_states_in)
        new_cell_states = list(tree.flatten(new_cell_states))
        if self.attention_style == "luong":
            context, alignment = self.attend(output, memory, memory_mask, training)
        attentional = self.attentional(context, output)
        new_states = [*new_cell_states, attentional]
        if return_alignment:
            return attentional, new_states, alignment
        return attentional, new_states

    def attend(self, query, memory, memory_mask, training, query_mask=None):
        """`(context, weights)` of the attention layer for `query` (a state,
        or every step's at once)."""
        return self.attention(
            query,
            memory,
            query_mask=query_mask,
            value_mask=memory_mask,
            return_attention_scores=True,
            training=training,
        )

    def attentional(self, context, output):
        """`tanh(W_c [c; h])`, or the context without an attentional layer."""
        if self.attention_layer is None:
            return context
        return self.attention_layer(ops.concatenate([context, output], axis=-1))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cell": keras.saving.serialize_keras_object(self.cell),
                "attention": keras.saving.serialize_keras_object(self.attention),
                "attention_style": self.attention_style,
                "attention_layer_size": self.attention_layer_size,
                "input_feeding": self.input_feeding,
            }
        )
        return config


def _check_memory_mask(memory, memory_mask):
    if memory_mask is None:
        return
    memory_shape, mask_shape = tuple(memory.shape), tuple(memory_mask.shape)
    if len(mask_shape) != 2 or any(
        a is not None and b is not None and a != b
        for a, b in zip(mask_shape, memory_shape[:2])
    ):
        raise ValueError(
            "Argument `memory_mask` must have shape (batch, source_length) = "
            f"{memory_shape[:2]} (that of `memory` {memory_shape}), got shape "
            f"{mask_shape}."
        )


@keras.saving.register_keras_serializable(package="keras_seq")
class AttentionRNN(keras.layers.Layer):
    """Runs an `AttentionWrapper` over a sequence: the teacher-forced decoder.

    `AttentionRNN(wrapper)(inputs, memory, memory_mask=...)` feeds
    `inputs[:, t]` (e.g. the embedded target shifted right) to the wrapper
    at every step; the wrapper keeps its weights, so the same layer decodes
    one step at a time afterwards (`layer.wrapper(x_t, states, memory,
    memory_mask)` in a `beam_search` step function).

    Args:
        wrapper: An `AttentionWrapper`.
        return_sequences: Return every step's output (default True) or the last.
        return_state: Also return the final states.
        return_alignments: Also return the attention weights of every step,
            `(batch, time, source_length)` (each row sums to 1 over the real
            memory positions and is exactly 0 on padding).

    Call arguments:
        inputs: `(batch, time, input_dim)`.
        memory: `(batch, source_length, memory_dim)`.
        memory_mask: Optional `(batch, source_length)` boolean.
        initial_state: Optional list of the cell's states (e.g. from the
            encoder); the attentional vector starts at zero.
        mask: Optional `(batch, time)` boolean (from `Embedding(mask_zero=True)`):
            masked steps keep the states and output zeros.
        training: Whether dropout is active.

    Returns:
        The outputs `(batch, time, units)` (or `(batch, units)`), then the
        alignments and the final states, as asked.

    Example:

    >>> import numpy as np
    >>> from keras_seq import layers
    >>> decoder = layers.AttentionRNN(layers.AttentionWrapper(
    ...     layers.GRUCell(8), layers.LuongAttention(), attention_layer_size=8))
    >>> outputs = decoder(np.ones((2, 3, 4), "float32"), np.ones((2, 5, 8), "float32"))
    >>> tuple(outputs.shape)
    (2, 3, 8)
    """

    def __init__(
        self,
        wrapper,
        return_sequences=True,
        return_state=False,
        return_alignments=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(wrapper, dict):
            wrapper = keras.saving.deserialize_keras_object(wrapper)
        if not isinstance(wrapper, AttentionWrapper):
            raise ValueError(  # noqa: TRY004 - bad input is a ValueError here
                f"Argument `wrapper` must be an AttentionWrapper, got {wrapper!r}."
            )
        self.wrapper = wrapper
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.return_alignments = bool(return_alignments)
        self.supports_masking = True

    def build(self, inputs_shape, memory_shape=None, *args, **kwargs):
        checks.check_rank("inputs", inputs_shape, 3, "(batch, time, input_dim)")
        if memory_shape is None:
            raise ValueError(
                "AttentionRNN needs `memory` (batch, source_length, memory_dim)."
            )
        checks.check_rank(
            "memory", memory_shape, 3, "(batch, source_length, memory_dim)"
        )
        if not self.wrapper.built:
            self.wrapper.build((inputs_shape[0], inputs_shape[-1]), None, memory_shape)
        self.built = True

    def compute_output_shape(self, inputs_shape, memory_shape=None, **kwargs):
        # Also spares Keras tracing the step loop symbolically (TensorFlow's
        # scan cannot, over an unknown number of steps).
        batch, steps = inputs_shape[0], inputs_shape[1]
        width = self.wrapper.output_size
        result = (batch, steps, width) if self.return_sequences else (batch, width)
        extra = []
        if self.return_alignments:
            extra.append((batch, steps, memory_shape[1]))
        if self.return_state:
            extra.extend((batch, size) for size in self.wrapper.state_size)
        return (result, *extra) if extra else result

    def compute_mask(self, inputs, memory=None, *args, mask=None, **kwargs):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        return mask if self.return_sequences else None

    def call(
        self,
        inputs,
        memory,
        memory_mask=None,
        initial_state=None,
        mask=None,
        training=None,
    ):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        _check_memory_mask(memory, memory_mask)
        batch = ops.shape(inputs)[0]
        if initial_state is None:
            states = self.wrapper.get_initial_state(batch_size=batch)
        else:
            states = self.wrapper.get_initial_state(cell_states=initial_state)
        if self._runs_in_parallel():
            return self._parallel_call(
                inputs, memory, memory_mask, states, mask, training
            )
        cell = self.wrapper.cell
        if isinstance(cell, DropoutRNNCell):
            # One dropout mask per sequence, drawn before the loop (as
            # keras.layers.RNN does; a mask drawn inside a JAX scan leaks).
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
            if training:
                width = cell.kernel.shape[0] if hasattr(cell, "kernel") else None
                if width is not None:
                    cell.get_dropout_mask(ops.zeros((batch, width), inputs.dtype))
                cell.get_recurrent_dropout_mask(states[0])
        steps = ops.transpose(inputs, (1, 0, 2))
        step_mask = (
            None if mask is None else ops.transpose(ops.cast(mask, "bool"), (1, 0))
        )

        # The carry: the states, the last real output, then this step's
        # output and weights. It is also what is stacked over time: Keras's
        # TensorFlow `scan` stacks outputs shaped like the carry.
        count = len(states)

        def step(carry, xs):
            previous = list(carry[:count])
            output, new_states, alignment = self.wrapper(
                xs[0],
                previous,
                memory,
                memory_mask=memory_mask,
                training=training,
                return_alignment=True,
            )
            last = output
            if step_mask is not None:
                keep = ops.expand_dims(xs[1], -1)
                new_states = [
                    ops.where(keep, n, p) for n, p in zip(new_states, previous)
                ]
                last = ops.where(keep, output, carry[count])
                output = ops.where(keep, output, ops.zeros_like(output))
                alignment = ops.where(keep, alignment, ops.zeros_like(alignment))
            new_carry = (*new_states, last, output, alignment)
            return new_carry, new_carry

        width = self.wrapper.output_size
        initial = (
            *states,
            ops.zeros((batch, width), self.compute_dtype),
            ops.zeros((batch, width), self.compute_dtype),
            ops.zeros(ops.shape(memory)[:2], self.compute_dtype),
        )
        xs = (steps,) if step_mask is None else (steps, step_mask)
        carry, stacked = time_loop(step, initial, xs, True)
        outputs, alignments = stacked[count + 1], stacked[count + 2]
        if isinstance(cell, DropoutRNNCell):
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        final_states = list(carry[:count])
        result = (
            ops.transpose(outputs, (1, 0, 2)) if self.return_sequences else carry[count]
        )
        extra = []
        if self.return_alignments:
            extra.append(ops.transpose(alignments, (1, 0, 2)))
        if self.return_state:
            extra.extend(final_states)
        return (result, *extra) if extra else result

    def _runs_in_parallel(self):
        """Luong style without input feeding on a keras_seq cell: the attention
        does not feed back, so the cell runs over the whole sequence as a fast
        recurrent layer and the attention over all steps at once (the same
        numbers as the step loop)."""
        wrapper = self.wrapper
        return (
            wrapper.attention_style == "luong"
            and not wrapper.input_feeding
            and isinstance(wrapper.cell, BaseRNNCell)
        )

    def _sequence_layer(self):
        """The fast recurrent layer over the wrapper's own cell (its weights).

        Kept out of Keras's tracking: its only weights are the cell's, which
        the wrapper holds and saves.
        """
        layer = self.__dict__.get("_cell_layer")
        if layer is None:
            cell = self.wrapper.cell
            kind = next(
                (k for c, k in _SEQUENCE_LAYERS.items() if isinstance(cell, c)),
                BaseRecurrent,
            )
            layer = kind.__new__(kind)
            BaseRecurrent.__init__(
                layer, cell, return_sequences=True, return_state=True, name="cell_loop"
            )
            self.__dict__["_cell_layer"] = layer
        return layer

    def _parallel_call(self, inputs, memory, memory_mask, states, mask, training):
        wrapper = self.wrapper
        count = len(_state_sizes(wrapper.cell))
        hidden, *final_states = self._sequence_layer()(
            inputs, initial_state=states[:count], mask=mask, training=training
        )
        query_mask = None if mask is None else ops.cast(mask, "bool")
        contexts, alignments = wrapper.attend(
            hidden, memory, memory_mask, training, query_mask=query_mask
        )
        outputs = wrapper.attentional(contexts, hidden)
        if query_mask is None:
            last = outputs[:, -1]
        else:
            outputs = ops.where(query_mask[..., None], outputs, 0.0)
            # The last real step's output (zeros where a row has none).
            steps = ops.sum(ops.cast(query_mask, "int32"), axis=1)
            index = ops.maximum(steps - 1, 0)[:, None, None]
            last = ops.take_along_axis(outputs, index, axis=1)[:, 0]
        final_states = [*final_states, last]
        result = outputs if self.return_sequences else last
        extra = []
        if self.return_alignments:
            extra.append(alignments)
        if self.return_state:
            extra.extend(final_states)
        return (result, *extra) if extra else result

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "wrapper": keras.saving.serialize_keras_object(self.wrapper),
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "return_alignments": self.return_alignments,
            }
        )
        return config
