import keras
from keras import ops

from keras_seq.layers import positions as position_utils
from keras_seq.utils import checks


@keras.saving.register_keras_serializable(package="keras_seq")
class PositionEmbedding(keras.layers.Layer):
    """Learned position embedding: one trainable `(d,)` vector per position.

    Args:
        sequence_length: Positive integer, the most positions the layer holds.
        initializer: Initializer of `embeddings` `(sequence_length, d)`.
            Default `"glorot_uniform"`.
        add_to_inputs: Return `inputs + E[positions]` (True) or the
            embeddings broadcast to the input's shape (False, default, as
            `keras_hub.layers.PositionEmbedding`).

    Call arguments:
        inputs: `(batch, time, d)` float tensor, or any rank above 3 with
            time on axis -2, `(batch, ..., time, d)`.
        start_index: Position of the first step, for step-by-step decoding.
        positions: Optional `(time,)` or `(batch, time)` integer positions
            whose embeddings to take instead of `start_index,
            start_index + 1, ...`. Default None.

    Returns:
        The shape of `inputs`.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import PositionEmbedding
    >>> layer = PositionEmbedding(sequence_length=10)
    >>> tuple(layer(np.zeros((2, 4, 6), "float32")).shape)
    (2, 4, 6)
    """

    def __init__(
        self,
        sequence_length,
        initializer="glorot_uniform",
        add_to_inputs=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sequence_length = checks.check_positive_int(
            "sequence_length", sequence_length
        )
        self.initializer = keras.initializers.get(initializer)
        self.add_to_inputs = bool(add_to_inputs)
        self.supports_masking = True

    def build(self, input_shape):
        position_utils.check_inputs_shape(input_shape)
        self.embeddings = self.add_weight(
            shape=(self.sequence_length, input_shape[-1]),
            initializer=self.initializer,
            name="embeddings",
        )

    @property
    def position_embeddings(self):
        """The `embeddings` variable, under keras-hub's attribute name."""
        return self.embeddings

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs, start_index=0, positions=None):
        position_utils.check_inputs_shape(inputs.shape)
        checks.check_floating("inputs", inputs)
        embeddings = ops.convert_to_tensor(self.embeddings)
        if positions is not None:
            positions = position_utils.positions_for(inputs, start_index, positions)
            table = ops.take(embeddings, ops.cast(positions, "int32"), axis=0)
        else:
            length = inputs.shape[-2]
            # An int: a known length (not None, nor an export's symbolic one).
            static = isinstance(start_index, int) and isinstance(length, int)
            if static and not 0 <= start_index <= self.sequence_length - length:
                raise ValueError(
                    f"PositionEmbedding holds {self.sequence_length} positions "
                    f"(`sequence_length`); got inputs of length {length} "
                    f"starting at `start_index={start_index}`."
                )
            # A gather of the rows rather than a slice of an open length:
            # it exports to ONNX from JAX.
            steps = position_utils.positions_for(inputs, start_index)
            table = ops.take(embeddings, ops.cast(steps, "int32"), axis=0)
        table = position_utils.broadcast_table(ops.cast(table, inputs.dtype), inputs)
        if self.add_to_inputs:
            return inputs + table
        return table

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
                "add_to_inputs": self.add_to_inputs,
            }
        )
        return config
