"""Position indices and their broadcast, shared by the position layers (not exported)."""

from keras import ops

from keras_seq.utils import checks
from keras_seq.utils.steps import step_indices

LAYOUT = "(batch, ..., time, dim)"


def check_inputs_shape(shape):
    """Inputs of rank 3 or more, time on axis -2 (as keras-hub's position layers)."""
    checks.check_min_rank("inputs", shape, 3, LAYOUT)


def positions_for(inputs, start_index=0, positions=None):
    """The positions to encode: `(time,)`, or `(batch, time)` when given so.

    Args:
        inputs: `(batch, ..., time, dim)` tensor.
        start_index: Position of the first step (integer or scalar tensor).
        positions: Optional `(time,)` or `(batch, time)` positions; when
            given, `start_index` is ignored (as keras-hub).
    """
    if positions is None:
        return step_indices(inputs, -2) + start_index
    rank = len(positions.shape)
    if rank not in (1, 2) or (
        positions.shape[-1] is not None
        and inputs.shape[-2] is not None
        and positions.shape[-1] != inputs.shape[-2]
    ):
        raise ValueError(
            "Argument `positions` must have shape (time,) or (batch, time) "
            f"with time = {inputs.shape[-2]} (axis -2 of the inputs), got "
            f"shape {tuple(positions.shape)}."
        )
    return positions


def broadcast_table(table, inputs):
    """Broadcasts a `(time, dim)` or `(batch, time, dim)` table to the inputs' shape."""
    if len(table.shape) == 3:
        # (batch, time, dim) -> (batch, 1, ..., 1, time, dim)
        for _ in range(len(inputs.shape) - 3):
            table = ops.expand_dims(table, 1)
    return ops.broadcast_to(table, ops.shape(inputs))
