import copy

import keras
from keras import ops

from keras_seq.utils import checks
from keras_seq.utils.steps import step_indices

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def reverse_valid(sequences, mask=None):
    """Reverses the real (unmasked) steps of each sequence, leaving padding in place.

    Like `tf.reverse_sequence` for right-padded masks, and defined for any mask:
    the k-th real step swaps with the (L-1-k)-th, L = number of real steps.

    Args:
        sequences: `(batch, time, ...)` tensor.
        mask: Optional `(batch, time)` boolean tensor; None reverses everything.

    Returns:
        A tensor like `sequences`.
    """
    if mask is None:
        return ops.flip(sequences, axis=1)
    mask = ops.cast(mask, "bool")
    positions = ops.expand_dims(step_indices(mask, 1), 0)
    valid = ops.cast(mask, "int32")
    # The k-th real step of a row reads the real step of rank L-1-k: a
    # (batch, time, time) comparison of ranks, not a sort (ONNX from JAX
    # and PyTorch has no sort over an open length).
    rank = ops.cumsum(valid, axis=1) - 1
    length = ops.sum(valid, axis=1, keepdims=True)
    wanted = ops.expand_dims(length - 1 - rank, -1)
    match = ops.logical_and(
        ops.expand_dims(rank, 1) == wanted, ops.expand_dims(mask, 1)
    )
    source = ops.argmax(ops.cast(match, "int8"), axis=-1)
    index = ops.where(mask, ops.cast(source, "int32"), positions)
    # (batch, time) -> (batch, time, 1, ...) to gather every feature of a step.
    for _ in range(len(sequences.shape) - 2):
        index = ops.expand_dims(index, -1)
    index = ops.broadcast_to(index, ops.shape(sequences))
    return ops.take_along_axis(sequences, index, axis=1)


@keras.saving.register_keras_serializable(package="keras_seq")
class Bidirectional(keras.layers.Layer):
    """Runs a recurrent layer in both directions over the real steps.

    The forward copy reads the sequence as given. The backward copy reads the
    real steps of each sequence in reverse order (`reverse_valid`, the
    behaviour of `tf.reverse_sequence` and PyTorch packed sequences): for a
    right-padded sequence `[x1, x2, x3, pad, pad]` it reads `[x3, x2, x1, pad,
    pad]`, so it starts on the last real token and its state has read exactly
    the real tokens. Its outputs are put back in input order before merging,
    and masked steps output zeros in both directions when
    `return_sequences=True`.

    Difference from `keras.layers.Bidirectional`: Keras flips the whole padded
    tensor (`go_backwards=True`), so its backward layer first walks over the
    padding and depends on the inner layer skipping masked steps; a layer that
    reads padding (e.g. without a mask) gets a backward state polluted by the
    padding. Here the backward outputs at real steps never depend on padding.
    For Keras's own recurrent layers with a mask both give the same numbers.

    Args:
        layer: A recurrent layer (`keras_seq.layers.LSTM`, `keras.layers.GRU`,
            `keras.layers.RNN(cell)`, ...) with `go_backwards=False`. It is the
            forward direction; the backward direction is a fresh copy built from
            its config (or `backward_layer`).
        merge_mode: `"concat"` (default), `"sum"`, `"mul"`, `"ave"` or None
            (return `[forward, backward]`).
        backward_layer: Optional recurrent layer for the backward direction,
            with the same `return_sequences`, `return_state` and `stateful`.
            Built as Keras requires (`go_backwards=True`) or with
            `go_backwards=False`: either way it reads the real steps of each
            sequence in reverse order, as described above.
        weights: Optional list of initial weights, the forward layer's then
            the backward layer's (as `keras.layers.Bidirectional`), set when
            the layer is built.

    Call arguments:
        sequences: `(batch, time, features)` float tensor.
        initial_state: Optional list: the forward layer's states then the
            backward layer's.
        mask: Optional `(batch, time)` boolean tensor (any pattern).
        training: Passed to both layers.

    Returns:
        The merged output (`(batch, [time,] merged_units)`), followed by the
        forward states then the backward states when the layer has
        `return_state=True`.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import Bidirectional, LSTM
    >>> bi = Bidirectional(LSTM(8, return_sequences=True))
    >>> x = np.ones((2, 5, 3), "float32")
    >>> mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    >>> tuple(bi(x, mask=mask).shape)
    (2, 5, 16)
    """

    def __init__(
        self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs
    ):
        super().__init__(**kwargs)
        if not isinstance(layer, keras.layers.Layer) or not hasattr(
            layer, "return_sequences"
        ):
            raise ValueError(
                "Argument `layer` must be a recurrent Keras layer (with "
                f"`return_sequences`), got {layer!r}."
            )
        if getattr(layer, "go_backwards", False):
            raise ValueError(
                "Argument `layer` must have `go_backwards=False` (it is the "
                "forward direction), got go_backwards=True. Pass a backward "
                "layer as `backward_layer`."
            )
        self.merge_mode = checks.check_choice("merge_mode", merge_mode, MERGE_MODES)
        self.forward_layer = layer
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = "backward_" + config["name"]
            backward_layer = layer.__class__.from_config(config)
        if not isinstance(backward_layer, keras.layers.Layer) or not hasattr(
            backward_layer, "return_sequences"
        ):
            raise ValueError(
                "Argument `backward_layer` must be a recurrent Keras layer (with "
                f"`return_sequences`), got {backward_layer!r}."
            )
        for attribute in ("return_sequences", "return_state", "stateful"):
            if getattr(backward_layer, attribute, False) != getattr(
                layer, attribute, False
            ):
                raise ValueError(
                    f"Argument `backward_layer` must have the same `{attribute}` "
                    f"as `layer` ({getattr(layer, attribute, False)}), got "
                    f"{getattr(backward_layer, attribute, False)}."
                )
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        for direction in (self.forward_layer, self.backward_layer):
            if hasattr(direction, "zero_output_for_mask"):
                direction.zero_output_for_mask = self.return_sequences
        self._initial_weights = weights
        self.supports_masking = True

    def build(self, sequences_shape, initial_state_shape=None):
        checks.check_rank("sequences", sequences_shape, 3, "(batch, time, features)")
        for direction in (self.forward_layer, self.backward_layer):
            if not direction.built:
                direction.build(sequences_shape)
        if self._initial_weights is not None:
            expected = len(self.forward_layer.weights) + len(
                self.backward_layer.weights
            )
            if len(self._initial_weights) != expected:
                raise ValueError(
                    f"Argument `weights` must hold {expected} arrays (the forward "
                    "layer's weights then the backward layer's), got "
                    f"{len(self._initial_weights)}."
                )
            half = len(self.forward_layer.weights)
            self.forward_layer.set_weights(self._initial_weights[:half])
            self.backward_layer.set_weights(self._initial_weights[half:])
            self._initial_weights = None

    def reset_state(self):
        """Resets the states of both directions (stateful layers)."""
        for direction in (self.forward_layer, self.backward_layer):
            if hasattr(direction, "reset_state"):
                direction.reset_state()

    def reset_states(self):
        self.reset_state()

    @property
    def states(self):
        """The forward layer's state variables then the backward layer's."""
        forward = getattr(self.forward_layer, "states", None)
        backward = getattr(self.backward_layer, "states", None)
        if forward is None or backward is None:
            return None
        return tuple(forward) + tuple(backward)

    def _merge(self, forward, backward):
        if self.merge_mode == "concat":
            return ops.concatenate([forward, backward], axis=-1)
        if self.merge_mode == "sum":
            return forward + backward
        if self.merge_mode == "mul":
            return forward * backward
        if self.merge_mode == "ave":
            return (forward + backward) / 2
        return [forward, backward]

    def call(self, sequences, initial_state=None, mask=None, training=None):
        checks.check_rank("sequences", sequences.shape, 3, "(batch, time, features)")
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        mask = checks.check_mask(mask, sequences)
        forward_state = backward_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            if len(initial_state) % 2:
                raise ValueError(
                    "Argument `initial_state` must hold the forward states then "
                    "the backward states (an even number of tensors), got "
                    f"{len(initial_state)} tensors."
                )
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]

        forward = self.forward_layer(
            sequences, initial_state=forward_state, mask=mask, training=training
        )
        backward_input, backward_mask = reverse_valid(sequences, mask), mask
        if getattr(self.backward_layer, "go_backwards", False):
            # The layer flips its input and mask itself: hand it the flip of
            # what it must read, so that it reads the real steps reversed.
            backward_input = ops.flip(backward_input, axis=1)
            if mask is not None:
                backward_mask = ops.flip(mask, axis=1)
        backward = self.backward_layer(
            backward_input,
            initial_state=backward_state,
            mask=backward_mask,
            training=training,
        )
        if self.return_state:
            forward, *forward_states = forward
            backward, *backward_states = backward
        if self.return_sequences:
            backward = reverse_valid(backward, mask)
        output = self._merge(forward, backward)
        if self.return_state:
            if self.merge_mode is None:
                return (*output, *forward_states, *backward_states)
            return (output, *forward_states, *backward_states)
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shapes = self.forward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            output_shape, *state_shapes = shapes
        else:
            output_shape, state_shapes = shapes, []
        if self.merge_mode == "concat":
            output_shape = tuple(output_shape[:-1]) + (output_shape[-1] * 2,)
        outputs = (
            [output_shape, output_shape] if self.merge_mode is None else [output_shape]
        )
        if not self.return_state and self.merge_mode is not None:
            return output_shape
        return tuple(outputs + list(state_shapes) * 2)

    def compute_mask(self, sequences, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask] * (2 if self.merge_mode is None else 1)
        if self.return_state:
            num_states = len(getattr(self.forward_layer, "state_size", [None]))
            masks += [None] * (2 * num_states)
        return masks if len(masks) > 1 else masks[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layer": keras.saving.serialize_keras_object(self.forward_layer),
                "merge_mode": self.merge_mode,
                "backward_layer": keras.saving.serialize_keras_object(
                    self.backward_layer
                ),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Keras's RNN.from_config pops from the dict it is given: work on a copy.
        config = copy.deepcopy(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        config["backward_layer"] = keras.saving.deserialize_keras_object(
            config["backward_layer"]
        )
        return cls(**config)
