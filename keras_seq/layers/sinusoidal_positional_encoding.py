import keras
import numpy as np
from keras import ops

from keras_seq.layers import positions as position_utils
from keras_seq.utils import checks


def sinusoidal_table(positions, dim, max_wavelength=10000.0, dtype="float32"):
    """`P[i, 2j] = sin(i / w^(2j/d))`, `P[i, 2j+1] = cos(i / w^(2j/d))`.

    Args:
        positions: `(length,)` positions `i` (any numbers).
        dim: The model dimension `d`.
        max_wavelength: `w`.

    Returns:
        `(length, dim)` table.
    """
    positions = ops.cast(positions, "float32")
    # Columns as NumPy constants (`dim` is static): 2j for columns 2j, 2j+1.
    pair = ops.convert_to_tensor(np.arange(dim) // 2 * 2, "float32")
    inverse_wavelength = ops.power(
        ops.cast(max_wavelength, "float32"), -pair / float(dim)
    )
    angles = ops.expand_dims(positions, -1) * inverse_wavelength
    even = ops.convert_to_tensor(np.arange(dim) % 2 == 0)
    return ops.cast(ops.where(even, ops.sin(angles), ops.cos(angles)), dtype)


@keras.saving.register_keras_serializable(package="keras_seq")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """Fixed sinusoidal position encoding of Vaswani et al.

    `P[i, 2j] = sin(i / max_wavelength^(2j/d))` and
    `P[i, 2j+1] = cos(i / max_wavelength^(2j/d))` for position `i` and model
    dimension `d` (the last axis of the input). No weights; any length.

    Args:
        max_wavelength: The base `max_wavelength` (10000 in the paper).
        add_to_inputs: Return `inputs + P` (True) or `P` broadcast to the
            input's shape (False, default, as
            `keras_hub.layers.SinePositionEncoding`).

    Call arguments:
        inputs: `(batch, time, d)` float tensor (e.g. token embeddings), or
            any rank above 3 with time on axis -2, `(batch, ..., time, d)`.
        start_index: Position of the first step (integer or scalar tensor),
            for step-by-step decoding: the encoding of step `t` alone is that
            of row `t` of the full pass. Default 0.
        positions: Optional `(time,)` or `(batch, time)` positions to encode
            instead of `start_index, start_index + 1, ...` (any numbers, e.g.
            positions that restart per packed segment). Default None.

    Returns:
        The shape of `inputs`.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import SinusoidalPositionalEncoding
    >>> embeddings = np.zeros((2, 5, 8), "float32")
    >>> tuple(SinusoidalPositionalEncoding(add_to_inputs=True)(embeddings).shape)
    (2, 5, 8)

    Reference:
        Vaswani et al., "Attention is all you need", NeurIPS 2017, section 3.5.
    """

    def __init__(self, max_wavelength=10000, add_to_inputs=False, **kwargs):
        super().__init__(**kwargs)
        valid = not isinstance(max_wavelength, bool) and isinstance(
            max_wavelength, (int, float)
        )
        if not valid or max_wavelength <= 1:
            raise ValueError(
                "Received an invalid value for argument `max_wavelength`, "
                f"expected a number > 1, got {max_wavelength!r}."
            )
        self.max_wavelength = max_wavelength
        self.add_to_inputs = bool(add_to_inputs)
        self.supports_masking = True

    def build(self, input_shape):
        position_utils.check_inputs_shape(input_shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs, start_index=0, positions=None):
        position_utils.check_inputs_shape(inputs.shape)
        checks.check_floating("inputs", inputs)
        positions = position_utils.positions_for(inputs, start_index, positions)
        table = sinusoidal_table(
            positions, inputs.shape[-1], self.max_wavelength, self.compute_dtype
        )
        table = position_utils.broadcast_table(table, inputs)
        if self.add_to_inputs:
            return inputs + table
        return table

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_wavelength": self.max_wavelength,
                "add_to_inputs": self.add_to_inputs,
            }
        )
        return config
