"""Attention masks and the masked softmax shared by the attention layers."""

import keras
from keras import ops

from keras_seq.utils import checks
from keras_seq.utils.steps import step_indices


def _large_negative(dtype):
    """Put in place of masked scores before the softmax.

    Finite in `dtype` (float16 overflows at 65504), so that a fully masked row
    gives no NaN; the weights of masked positions are then set to exactly 0.
    """
    return -0.7 * 65504.0 if dtype == "float16" else -1e9


def check_key_value_shapes(value_shape, key_shape):
    """All axes of `value` and `key` but the last match (None matches anything)."""
    inner_value, inner_key = tuple(value_shape)[1:-1], tuple(key_shape)[1:-1]
    if len(inner_value) != len(inner_key) or any(
        v is not None and k is not None and v != k
        for v, k in zip(inner_value, inner_key)
    ):
        raise ValueError(
            "All dimensions of `value` and `key` but the last must be equal, "
            f"got value shape {tuple(value_shape)} and key shape "
            f"{tuple(key_shape)}."
        )


def check_attention_inputs(query, value, key, query_rank=(3,)):
    """Ranks, dtypes and matching batch / key-value lengths."""
    check_key_value_shapes(value.shape, key.shape)
    for name, tensor, ranks in (
        ("query", query, query_rank),
        ("value", value, (3,)),
        ("key", key, (3,)),
    ):
        if len(tensor.shape) not in ranks:
            layout = " or ".join(
                "(batch, dim)" if r == 2 else "(batch, time, dim)" for r in ranks
            )
            raise ValueError(
                f"Argument `{name}` must have rank "
                f"{' or '.join(str(r) for r in ranks)} with shape {layout}, "
                f"got shape {tuple(tensor.shape)}."
            )
        checks.check_floating(name, tensor)
    batches = {t.shape[0] for t in (query, value, key) if t.shape[0] is not None}
    if len(batches) > 1:
        raise ValueError(
            "Arguments `query`, `key` and `value` must have the same batch size, "
            f"got shapes {tuple(query.shape)}, {tuple(key.shape)}, "
            f"{tuple(value.shape)}."
        )


def _check_mask_shape(name, mask, expected):
    shape = tuple(mask.shape)
    ok = len(shape) == len(expected) and all(
        e is None or s is None or s == e for s, e in zip(shape, expected)
    )
    if not ok:
        raise ValueError(
            f"Argument `{name}` must have shape {tuple(expected)}, got shape {shape}."
        )


def _check_broadcast_mask(name, mask, expected, heads=None):
    """`mask` broadcasts to `expected` `(B, T_q, T_k)`, or to `(B, heads, T_q, T_k)`.

    Ranks 2 and 3 align with `(B, T_q, T_k)` from the right; rank 4 (only with
    `heads`) with `(B, heads, T_q, T_k)`. Each axis is equal or 1.
    """
    shape = tuple(mask.shape)
    target = tuple(expected)
    if heads is not None and len(shape) == 4:
        target = (expected[0], heads, *expected[1:])
    ok = 2 <= len(shape) <= len(target) and all(
        e is None or s is None or s in (1, e) for s, e in zip(shape[::-1], target[::-1])
    )
    if not ok:
        extra = ""
        if heads is not None:
            extra = f" or to (batch, heads, T_q, T_k) = {target[:1] + (heads,) + target[-2:]}"
        raise ValueError(
            f"Argument `{name}` must have shape (batch, T_q, T_k) = "
            f"{tuple(expected)}, or a shape that broadcasts to it{extra} "
            f"(each axis equal or 1), got shape {shape}."
        )


def causal_mask(query_length, key_length, offset=0):
    """`(query_length, key_length)` boolean mask: query `i` sees keys `<= i + offset`."""
    return _causal(ops.arange(query_length), ops.arange(key_length), offset)


def sliding_window_mask(query_length, key_length, window, offset=0):
    """`(query_length, key_length)` boolean mask: `|i + offset - j| < window`."""
    return _window(ops.arange(query_length), ops.arange(key_length), window, offset)


def _causal(query_steps, key_steps, offset=0):
    rows = ops.expand_dims(query_steps + offset, -1)
    return rows >= ops.expand_dims(key_steps, 0)


def _window(query_steps, key_steps, window, offset=0):
    rows = ops.expand_dims(query_steps + offset, -1)
    return ops.abs(rows - ops.expand_dims(key_steps, 0)) < window


def attention_mask(
    query,
    value,
    query_mask=None,
    value_mask=None,
    key_mask=None,
    attention_mask=None,
    use_causal_mask=False,
    num_heads=None,
    sliding_window=None,
    position_offset=0,
):
    """Merges every mask source into one boolean `(batch, T_q, T_k)` mask.

    Returns `(mask, may_have_empty_rows)`; `mask` is None without any source.

    `query_mask` `(batch, T_q)` and `value_mask` / `key_mask` `(batch, T_k)`
    mark real (True) and padded (False) positions; `attention_mask`
    `(batch, T_q, T_k)`, or any shape broadcasting to it, says which query
    may see which key; `use_causal_mask` lets query `i` see keys `0..i`;
    `sliding_window` keys `|i - j| < sliding_window`. All are combined with a
    logical AND. With `num_heads`, `attention_mask` may also broadcast to
    `(batch, heads, T_q, T_k)`, and a rank-4 mask gives a rank-4 result.
    `position_offset` is the position of the first query (cached decoding).
    """
    batch, t_q, t_k = query.shape[0], query.shape[1], value.shape[1]
    merged = None

    def merge(mask):
        return mask if merged is None else ops.logical_and(merged, mask)

    if query_mask is not None:
        _check_mask_shape("query_mask", query_mask, (batch, t_q))
        merged = merge(ops.expand_dims(ops.cast(query_mask, "bool"), -1))
    for name, mask in (("value_mask", value_mask), ("key_mask", key_mask)):
        if mask is not None:
            _check_mask_shape(name, mask, (batch, t_k))
            merged = merge(ops.expand_dims(ops.cast(mask, "bool"), -2))
    steps_q, steps_k = step_indices(query, 1), step_indices(value, 1)
    if sliding_window is not None:
        window = _window(steps_q, steps_k, sliding_window, offset=position_offset)
        merged = merge(ops.expand_dims(window, 0))
    if attention_mask is not None:
        _check_broadcast_mask(
            "attention_mask", attention_mask, (batch, t_q, t_k), heads=num_heads
        )
        attention_mask = ops.cast(attention_mask, "bool")
        if len(attention_mask.shape) == 2:
            attention_mask = ops.expand_dims(attention_mask, 0)
        if len(attention_mask.shape) == 4 and merged is not None:
            merged = ops.expand_dims(merged, 1)  # (B, 1, T_q, T_k), all heads
        merged = merge(attention_mask)
    # Only a causal mask leaves every query at least key 0.
    may_have_empty_rows = merged is not None
    if use_causal_mask:
        causal = _causal(steps_q, steps_k)
        for _ in range(len(merged.shape) - 2 if merged is not None else 1):
            causal = ops.expand_dims(causal, 0)
        merged = merge(causal)
    return merged, may_have_empty_rows


def masked_softmax(scores, mask):
    """Softmax over the last axis with masked scores at a large negative value.

    In a row with at least one visible position the masked positions get
    exactly 0 (`exp` underflows). A row with every position masked comes out
    uniform: `attend` zeroes those rows after the weighted sum, on the smaller
    tensor. `mask` broadcasts to `scores`, or is None.
    """
    if mask is None:
        return ops.softmax(scores, axis=-1)
    dtype = keras.backend.standardize_dtype(scores.dtype)
    scores = ops.where(mask, scores, ops.cast(_large_negative(dtype), dtype))
    return ops.softmax(scores, axis=-1)


def weights_dropout(layer, training):
    """Dropout on attention weights with `layer.dropout` / `layer.seed_generator`."""
    if not training or layer.dropout == 0:
        return None

    def dropout(weights):
        return keras.random.dropout(
            weights, rate=layer.dropout, seed=layer.seed_generator
        )

    return dropout


def attend(scores, value, mask, may_have_empty_rows, dropout_fn=None):
    """`(weights, context)`: masked softmax of `scores`, weighted sum of `value`.

    Args:
        scores: `(..., T_q, T_k)`.
        value: `(..., T_k, d_v)`.
        mask: Boolean, broadcastable to `scores`, or None.
        may_have_empty_rows: Whether a query may see no key at all (any
            padding or explicit mask); such queries get zero weights and a zero
            output. A causal mask alone never empties a row.
        dropout_fn: Optional function applied to the weights before the sum.

    Returns:
        The weights (masked positions exactly 0) and the context `(..., T_q, d_v)`.
    """
    weights = masked_softmax(scores, mask)
    dropped = weights if dropout_fn is None else dropout_fn(weights)
    context = ops.matmul(dropped, value)
    if mask is not None and may_have_empty_rows:
        visible = ops.any(mask, axis=-1, keepdims=True)
        context = ops.where(visible, context, ops.zeros_like(context))
        weights = ops.where(visible, weights, ops.zeros_like(weights))
    return weights, context
