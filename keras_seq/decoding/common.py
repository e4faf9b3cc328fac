"""Argument checks and tensor helpers shared by the decoders (not exported)."""

import numpy as np
from keras import ops, tree

from keras_seq.utils import checks


def check_search_arguments(start_ids, end_id, max_length):
    checks.check_positive_int("max_length", max_length)
    if isinstance(end_id, bool) or not isinstance(end_id, int) or end_id < 0:
        raise ValueError(
            "Received an invalid value for argument `end_id`, expected a "
            f"non-negative integer token id, got {end_id!r}."
        )
    start_ids = ops.convert_to_tensor(start_ids)
    if len(start_ids.shape) != 1:
        raise ValueError(
            "Argument `start_ids` must have shape (batch,), got shape "
            f"{tuple(start_ids.shape)}."
        )
    if "int" not in str(start_ids.dtype):
        raise ValueError(
            f"Argument `start_ids` must hold integer token ids, got dtype "
            f"{start_ids.dtype}."
        )
    return ops.cast(start_ids, "int32")


def check_state_batch(initial_state, start_ids):
    """Every tensor of `initial_state` must have `start_ids`' batch size."""
    batch = start_ids.shape[0]
    for state in tree.flatten(initial_state):
        # The shape without a conversion (repeat_batch converts once later).
        shape = getattr(state, "shape", None)
        shape = np.shape(state) if shape is None else tuple(shape)
        if not shape or (batch is not None and shape[0] not in (None, batch)):
            raise ValueError(
                "Argument `initial_state` must hold tensors with a leading batch "
                f"axis of {batch} (the size of `start_ids`), got shape {shape}."
            )


def check_logits(logits, rows, end_id=None):
    """The step function's logits must be `(rows, vocab)` floats, `end_id`
    one of the vocabulary's ids."""
    shape = tuple(logits.shape)
    static_rows = rows if isinstance(rows, int) else None
    if len(shape) != 2 or (
        static_rows is not None and shape[0] is not None and shape[0] != static_rows
    ):
        expected = (
            f"({static_rows if static_rows is not None else 'batch * beam'}, vocab)"
        )
        raise ValueError(
            f"`step_fn` must return logits of shape {expected}, got shape {shape}."
        )
    if shape[1] is None:
        raise ValueError(
            f"`step_fn` must return logits with a static vocabulary size, got "
            f"shape {shape}."
        )
    if end_id is not None and end_id >= shape[1]:
        raise ValueError(
            f"Argument `end_id` must be a token id of `step_fn`'s vocabulary "
            f"(0 to {shape[1] - 1}), got {end_id}."
        )
    return ops.cast(logits, "float32")


def repeat_batch(state, times):
    """Repeats each example of a nested state `times` times along axis 0."""
    if times == 1:
        return state
    return tree.map_structure(
        lambda x: ops.repeat(ops.convert_to_tensor(x), times, axis=0), state
    )


def log_softmax(logits):
    return logits - ops.logsumexp(logits, axis=-1, keepdims=True)
