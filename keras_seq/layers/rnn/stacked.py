import copy

import keras

from keras_seq.layers.rnn.bidirectional import MERGE_MODES, Bidirectional
from keras_seq.utils import checks


def _clone(layer, **overrides):
    config = layer.get_config()
    config.update(overrides)
    return layer.__class__.from_config(config)


@keras.saving.register_keras_serializable(package="keras_seq")
class Stacked(keras.layers.Layer):
    """A deep RNN in one layer, like `torch.nn.LSTM(num_layers=N, bidirectional=...)`.

    Layer `l` reads the output sequence of layer `l - 1`. Between layers (not
    after the top one) a `Dropout(dropout)` is applied; with `residual=True` the
    input of each layer after the first is added to its output sequence
    (Wu et al. 2016). Every layer gets the sequence mask.

    Args:
        layers: Either one recurrent layer, repeated `num_layers` times (each
            a fresh copy from its config), or a list of recurrent layers and/or
            cells (a cell is wrapped in `keras.layers.RNN`). The layers are
            templates: they are rebuilt from their configs, every layer below
            the top one with `return_sequences=True`.
        num_layers: Number of layers when `layers` is a single layer.
        dropout: Float in [0, 1), dropout on the outputs of every layer but the
            top one (training only). Default 0.
        residual: Add each layer's input to its output sequence, for every layer
            after the first (feature sizes must match). The top layer has no
            residual when `return_sequences=False`. Default False.
        bidirectional: Wrap every layer in `keras_seq.layers.Bidirectional`.
            Default False.
        merge_mode: `merge_mode` of the bidirectional layers (not None).
            Default `"concat"`.
        return_sequences: Return the top layer's output sequence
            `(batch, time, units)` (True) or its last output (False). Default
            None: the top template's own `return_sequences` (so
            `Stacked(LSTM(8), num_layers=2)` returns the last output, as
            `LSTM(8)` does, and `Stacked(LSTM(8, return_sequences=True), ...)`
            the sequence).
        return_state: Also return the final states of every layer. Default
            None: the top template's own `return_state`.
        seed: Seed of the between-layer dropout.

    Call arguments:
        sequences: `(batch, time, features)` float tensor.
        initial_state: Optional list with one entry per layer, each the list of
            that layer's states (forward then backward when bidirectional).
        mask: Optional `(batch, time)` boolean tensor.
        training: Whether dropout is active.

    Returns:
        The top output, followed (with `return_state`) by the states of layer 0,
        then layer 1, ..., each layer's states in the order it returns them.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import LSTM, Stacked
    >>> template = LSTM(16, return_sequences=True)
    >>> deep = Stacked(template, num_layers=3, dropout=0.2, bidirectional=True)
    >>> tuple(deep(np.ones((2, 5, 8), "float32")).shape)
    (2, 5, 32)
    >>> tuple(Stacked(LSTM(16), num_layers=2)(np.ones((2, 5, 8), "float32")).shape)
    (2, 16)
    """

    def __init__(
        self,
        layers,
        num_layers=None,
        dropout=0.0,
        residual=False,
        bidirectional=False,
        merge_mode="concat",
        return_sequences=None,
        return_state=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(layers, (list, tuple)):
            if num_layers is not None and num_layers != len(layers):
                raise ValueError(
                    "Argument `num_layers` must be None or match the number of "
                    f"layers given ({len(layers)}), got {num_layers}."
                )
            templates = list(layers)
        else:
            checks.check_positive_int("num_layers", num_layers)
            templates = [layers] * num_layers
        if not templates:
            raise ValueError("Argument `layers` must hold at least one layer, got [].")
        self.dropout = checks.check_rate("dropout", dropout)
        self.residual = bool(residual)
        self.bidirectional = bool(bidirectional)
        self.merge_mode = checks.check_choice(
            "merge_mode", merge_mode, [m for m in MERGE_MODES if m is not None]
        )
        top = templates[-1]
        if return_sequences is None:
            return_sequences = getattr(top, "return_sequences", False)
        if return_state is None:
            return_state = getattr(top, "return_state", False)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.seed = seed
        self.num_layers = len(templates)

        repeated = not isinstance(layers, (list, tuple))
        self.recurrent_layers = []
        for index, template in enumerate(templates):
            if not isinstance(template, keras.layers.Layer) or not hasattr(
                template, "return_sequences"
            ):
                if hasattr(template, "state_size") and hasattr(template, "call"):
                    template = keras.layers.RNN(template)
                else:
                    raise ValueError(
                        "Argument `layers` must hold recurrent layers or cells, "
                        f"got {template!r} at position {index}."
                    )
            is_top = index == len(templates) - 1
            layer = _clone(
                template,
                return_sequences=self.return_sequences or not is_top,
                return_state=True,
                name=f"{template.name}_{index}" if repeated else template.name,
            )
            if self.bidirectional:
                layer = Bidirectional(
                    layer, merge_mode=self.merge_mode, name=f"bidirectional_{index}"
                )
            self.recurrent_layers.append(layer)
        self.dropout_layer = keras.layers.Dropout(self.dropout, seed=seed)
        self.supports_masking = True

    def build(self, sequences_shape, initial_state_shape=None):
        checks.check_rank("sequences", sequences_shape, 3, "(batch, time, features)")
        shape = tuple(sequences_shape)
        for index, layer in enumerate(self.recurrent_layers):
            layer.build(shape)
            output_shape = layer.compute_output_shape(shape)[0]
            needs_match = self.residual and index > 0 and len(output_shape) == 3
            if needs_match and output_shape[-1] != shape[-1]:
                raise ValueError(
                    "`residual=True` needs equal input and output feature "
                    f"sizes, got {shape[-1]} -> {output_shape[-1]} at layer "
                    f"{index}."
                )
            shape = output_shape

    def call(self, sequences, initial_state=None, mask=None, training=None):
        checks.check_rank("sequences", sequences.shape, 3, "(batch, time, features)")
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        mask = checks.check_mask(mask, sequences)
        if initial_state is not None and len(initial_state) != self.num_layers:
            raise ValueError(
                "Argument `initial_state` must hold one list of states per layer "
                f"({self.num_layers}), got {len(initial_state)} entries."
            )
        states = []
        x = sequences
        for index, layer in enumerate(self.recurrent_layers):
            layer_state = None if initial_state is None else list(initial_state[index])
            output, *layer_states = layer(
                x, initial_state=layer_state, mask=mask, training=training
            )
            states.extend(layer_states)
            if self.residual and index > 0 and len(output.shape) == 3:
                output = output + x
            if index < self.num_layers - 1 and self.dropout > 0:
                output = self.dropout_layer(output, training=training)
            x = output
        if self.return_state:
            return (x, *states)
        return x

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = tuple(sequences_shape)
        state_shapes = []
        for layer in self.recurrent_layers:
            output_shape, *layer_state_shapes = layer.compute_output_shape(shape)
            state_shapes.extend(tuple(s) for s in layer_state_shapes)
            shape = tuple(output_shape)
        if self.return_state:
            return (shape, *state_shapes)
        return shape

    def compute_mask(self, sequences, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if not self.return_state:
            return output_mask
        num_states = len(self.compute_output_shape(sequences.shape)) - 1
        return [output_mask] + [None] * num_states

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layers": [
                    keras.saving.serialize_keras_object(
                        layer.forward_layer if self.bidirectional else layer
                    )
                    for layer in self.recurrent_layers
                ],
                "dropout": self.dropout,
                "residual": self.residual,
                "bidirectional": self.bidirectional,
                "merge_mode": self.merge_mode,
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Keras's RNN.from_config pops from the dict it is given: work on a copy.
        config = copy.deepcopy(config)
        config["layers"] = [
            keras.saving.deserialize_keras_object(layer) for layer in config["layers"]
        ]
        return cls(**config)
