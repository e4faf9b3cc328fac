"""Shared call logic of the single-head attention layers (not exported)."""

import keras
from keras import ops

from keras_seq.layers.attention import masking
from keras_seq.utils import checks


def unpack_inputs(query, value, key):
    """`(query, value, key)`, also from Keras's `inputs=[query, value(, key)]`.

    Works on tensors and on shapes (a list of shapes as the first argument).
    """
    if isinstance(query, (list, tuple)) and (
        len(query) and not isinstance(query[0], (int, type(None)))
    ):
        if value is not None or key is not None or len(query) not in (2, 3):
            raise ValueError(
                "Pass either `query, value[, key]` or Keras's "
                "`inputs=[query, value]` / `[query, value, key]`, got a list of "
                f"{len(query)} as the first argument"
                + (" and a separate `value` / `key`." if value is not None else ".")
            )
        query, value, key = (*query, None)[:3]
    if value is None:
        raise ValueError(
            "Argument `value` is required: pass `query, value[, key]` or "
            "Keras's `inputs=[query, value(, key)]`."
        )
    return query, value, key


def check_shapes(query_shape, value_shape, key_shape=None):
    """At build: query `(batch, T_q, d)` or `(batch, d)`, value and key rank 3."""
    if len(query_shape) not in (2, 3):
        raise ValueError(
            "Argument `query` must have rank 2 or 3 with shape (batch, dim) or "
            f"(batch, time, dim), got shape {tuple(query_shape)}."
        )
    for name, shape in (("value", value_shape), ("key", key_shape)):
        if shape is not None:
            checks.check_rank(name, shape, 3, "(batch, time, dim)")
    if key_shape is not None:
        masking.check_key_value_shapes(value_shape, key_shape)


class BaseAttention(keras.layers.Layer):
    """Attention of `query` over `key` / `value` with a score from the subclass.

    Subclasses define `_scores(query, key)` -> `(batch, T_q, T_k)`. This class
    merges the masks, applies the masked softmax and dropout on the weights and
    returns the weighted sum of the values. Like `keras.layers.Attention`, the
    first argument may be the list `[query, value]` or `[query, value, key]`
    and `mask` the list `[query_mask, value_mask]`.
    """

    def __init__(self, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.dropout = checks.check_rate("dropout", dropout)
        self.seed = seed
        if self.dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, query_shape, value_shape=None, key_shape=None):
        query_shape, value_shape, key_shape = unpack_inputs(
            query_shape, value_shape, key_shape
        )
        check_shapes(query_shape, value_shape, key_shape)

    def _scores(self, query, key):
        raise NotImplementedError

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape, value_shape, _ = unpack_inputs(query_shape, value_shape, key_shape)
        return (*query_shape[:-1], value_shape[-1])

    def compute_output_spec(
        self, query, value=None, key=None, return_attention_scores=False, **kwargs
    ):
        query, value, key = unpack_inputs(query, value, key)
        output = keras.KerasTensor(
            self.compute_output_shape(query.shape, value.shape), dtype=query.dtype
        )
        if not return_attention_scores:
            return output
        weights_shape = (*query.shape[:-1], value.shape[1])
        return output, keras.KerasTensor(weights_shape, dtype=query.dtype)

    def call(
        self,
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        mask=None,
    ):
        query, value, key = unpack_inputs(query, value, key)
        if isinstance(query_mask, (list, tuple)):
            # Keras filled `query_mask` with the masks of `inputs=[...]`.
            mask = query_mask if mask is None else mask
            query_mask = None
        if isinstance(mask, (list, tuple)):
            # Keras's `mask=[query_mask, value_mask]` (explicit arguments win).
            masks = (*mask, None)[:2]
            query_mask = masks[0] if query_mask is None else query_mask
            value_mask = masks[1] if value_mask is None else value_mask
        elif mask is not None and query_mask is None:
            query_mask = mask  # the Keras mask of a lone `query` tensor
        if key is None:
            key = value
            key_mask = None
        masking.check_attention_inputs(query, value, key, query_rank=(2, 3))
        single_query = len(query.shape) == 2
        if single_query:
            # One query per sequence (a decoder step): a length-1 query axis.
            query = ops.expand_dims(query, 1)
            if query_mask is not None:
                query_mask = ops.expand_dims(query_mask, 1)
            if attention_mask is not None and len(attention_mask.shape) == 2:
                attention_mask = ops.expand_dims(attention_mask, 1)
        mask, may_have_empty_rows = masking.attention_mask(
            query,
            value,
            query_mask=query_mask,
            value_mask=value_mask,
            key_mask=key_mask,
            attention_mask=attention_mask,
            use_causal_mask=use_causal_mask,
        )
        dropout_fn = masking.weights_dropout(self, training)

        weights, context = masking.attend(
            self._scores(query, key), value, mask, may_have_empty_rows, dropout_fn
        )
        if single_query:
            context, weights = context[:, 0], weights[:, 0]
        if return_attention_scores:
            return context, weights
        return context

    def get_config(self):
        config = super().get_config()
        config.update({"dropout": self.dropout, "seed": self.seed})
        return config
