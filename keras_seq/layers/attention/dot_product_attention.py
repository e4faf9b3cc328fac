import math

import keras
from keras import ops

from keras_seq.layers.attention.base_attention import BaseAttention
from keras_seq.layers.attention.multi_head_attention import matmul_transposed


@keras.saving.register_keras_serializable(package="keras_seq")
class DotProductAttention(BaseAttention):
    """Scaled dot-product attention: `softmax(Q K^T / sqrt(d)) V`.

    No weights (but with `use_scale=True`): the query and the keys must have
    the same last dimension `d`.

    Difference from `keras.layers.Attention`, the Keras counterpart: its
    default does not scale the scores. Code moved from it passes
    `use_scale=False` (unscaled, the same numbers) or `use_scale=True` (a
    learned scalar); the default here is the Transformer's `1 / sqrt(d)`.

    Args:
        scale: True (default) divides the scores by `sqrt(d)`, False leaves
            them, a positive float multiplies them by that number.
        dropout: Dropout rate on the attention weights (training only).
        seed: Seed of the dropout.
        use_scale: `keras.layers.Attention`'s argument, in its meaning:
            False leaves the scores unscaled, True multiplies them by a
            trainable scalar `scale` (initialised to 1). Default None: use
            `scale`. Not combined with a numeric `scale`.
        score_mode: `"dot"` (default, as Keras). Keras's `"concat"` is
            refused: use `keras_seq.layers.AdditiveAttention`.

    Call arguments:
        query: `(batch, T_q, d)`, or `(batch, d)` for a single query; or
            Keras's list `[query, value]` / `[query, value, key]`.
        value: `(batch, T_k, d_v)`.
        key: Optional `(batch, T_k, d)`; `value` is used when None.
        query_mask: Optional `(batch, T_q)` boolean, False at padded queries
            (their output and weights are zeros). Filled in from a Keras mask
            on `query` (e.g. `Embedding(mask_zero=True)`) when not given.
        value_mask: Optional `(batch, T_k)` boolean, False at padded keys
            (their weight is exactly 0). From the Keras mask of `value`.
        key_mask: Optional `(batch, T_k)` boolean, as `value_mask`.
        attention_mask: Optional `(batch, T_q, T_k)` boolean, False where a
            query must not see a key.
        use_causal_mask: Query `i` sees keys `0..i` only.
        return_attention_scores: Also return the weights `(batch, T_q, T_k)`.
        training: Whether dropout is active.
        mask: Keras's `[query_mask, value_mask]` list (filled in by Keras from
            the inputs' masks), used where the arguments above are not given.

    All masks are combined with a logical AND; a query that sees no key gets
    zero weights and a zero output, never NaN.

    Returns:
        `(batch, T_q, d_v)` (or `(batch, d_v)`), and the weights when asked.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import DotProductAttention
    >>> attention = DotProductAttention()
    >>> q, v = np.ones((2, 3, 8), "float32"), np.ones((2, 5, 8), "float32")
    >>> tuple(attention(q, v).shape)
    (2, 3, 8)

    Reference:
        Vaswani et al., "Attention is all you need", NeurIPS 2017.
    """

    def __init__(
        self,
        scale=True,
        dropout=0.0,
        seed=None,
        use_scale=None,
        score_mode="dot",
        **kwargs,
    ):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        if score_mode != "dot":
            raise ValueError(
                "Received an invalid value for argument `score_mode`, expected "
                f"'dot', got {score_mode!r}. For Keras's 'concat' (additive) "
                "scores use `keras_seq.layers.AdditiveAttention`."
            )
        if use_scale is not None:
            if not isinstance(scale, bool):
                raise ValueError(
                    "Pass `scale` or Keras's `use_scale`, not both: got "
                    f"scale={scale!r}, use_scale={use_scale!r}."
                )
            scale = False
        self.use_scale = None if use_scale is None else bool(use_scale)
        self.score_mode = score_mode
        valid = isinstance(scale, bool) or (
            isinstance(scale, (int, float)) and scale > 0
        )
        if not valid:
            raise ValueError(
                "Received an invalid value for argument `scale`, expected True, "
                f"False or a positive number, got {scale!r}."
            )
        self.scale = scale

    def build(self, query_shape, value_shape=None, key_shape=None):
        super().build(query_shape, value_shape, key_shape)
        if self.use_scale:
            self.learned_scale = self.add_weight(
                shape=(), initializer="ones", name="scale"
            )

    def _scores(self, query, key):
        if query.shape[-1] != key.shape[-1]:
            raise ValueError(
                "Dot-product attention needs `query` and `key` with the same last "
                f"dimension, got query shape {tuple(query.shape)} and key shape "
                f"{tuple(key.shape)}."
            )
        # The query is scaled before the matmul: in float16 the unscaled
        # scores of large vectors overflow (|q . k| > 65504) before a
        # division after it could bring them back.
        if self.scale is True:
            query = query * ops.cast(1.0 / math.sqrt(query.shape[-1]), query.dtype)
        elif self.scale is not False:
            query = query * ops.cast(self.scale, query.dtype)
        if self.use_scale:
            query = query * ops.cast(self.learned_scale, query.dtype)
        return matmul_transposed(query, key)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "scale": self.scale,
                "use_scale": self.use_scale,
                "score_mode": self.score_mode,
            }
        )
        return config
