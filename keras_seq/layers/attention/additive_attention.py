import math

import keras
from keras import ops

from keras_seq.layers.attention.base_attention import (
    BaseAttention,
    check_shapes,
    unpack_inputs,
)
from keras_seq.utils import checks
from keras_seq.utils.initializers import fresh


@keras.saving.register_keras_serializable(package="keras_seq")
class AdditiveAttention(BaseAttention):
    """Bahdanau (additive) attention: `a(q, k) = w_v^T tanh(q W_q + k W_k + b)`.

    The score of each (query, key) pair comes from a one-hidden-layer network
    of width `units`; the weights are the softmax of the scores over the keys
    and the output is the weighted sum of the values. Unlike
    `keras.layers.AdditiveAttention` (no projections, `sum(tanh(q + k))`),
    this is the score of Bahdanau et al. and of `tfa.seq2seq.BahdanauAttention`.

    Args:
        units: Positive integer, width of the scoring network.
        use_bias: Whether to add `b` inside the tanh. Default True.
        kernel_initializer: Initializer of `query_kernel` `(d_q, units)`,
            `key_kernel` `(d_k, units)` and `score_kernel` `(units,)`.
        bias_initializer: Initializer of `bias` `(units,)`.
        normalize: Weight-normalise the score (Salimans & Kingma 2016), as
            `tfa.seq2seq.BahdanauAttention(normalize=True)`: the score is
            `g * (w_v / ||w_v||)^T tanh(...)` with a trainable scalar `g`
            (`score_scale`, initialised to `sqrt(1 / units)`). Default False.
        dropout: Dropout rate on the attention weights (training only).
        seed: Seed of the dropout.

    Call arguments:
        query: `(batch, T_q, d_q)`, or `(batch, d_q)` for a single query (a
            decoder state).
        value: `(batch, T_k, d_v)`, e.g. the encoder outputs.
        key: Optional `(batch, T_k, d_k)`; `value` is used when None.
        query_mask: As `keras_seq.layers.DotProductAttention`.
        value_mask: As `keras_seq.layers.DotProductAttention`.
        key_mask: As `keras_seq.layers.DotProductAttention`.
        attention_mask: As `keras_seq.layers.DotProductAttention`.
        use_causal_mask: As `keras_seq.layers.DotProductAttention`.
        return_attention_scores: As `keras_seq.layers.DotProductAttention`.
        training: As `keras_seq.layers.DotProductAttention`.

    Returns:
        `(batch, T_q, d_v)` (or `(batch, d_v)`), and the weights
        `(batch, T_q, T_k)` (or `(batch, T_k)`) when asked.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import AdditiveAttention
    >>> attention = AdditiveAttention(16)
    >>> state, encoded = np.ones((2, 32), "float32"), np.ones((2, 7, 64), "float32")
    >>> context, weights = attention(state, encoded, return_attention_scores=True)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 64), (2, 7))

    Reference:
        Bahdanau, Cho & Bengio, "Neural machine translation by jointly learning
        to align and translate", ICLR 2015.
    """

    def __init__(
        self,
        units,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        normalize=False,
        dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        self.units = checks.check_positive_int("units", units)
        self.use_bias = bool(use_bias)
        self.normalize = bool(normalize)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, query_shape, value_shape=None, key_shape=None):
        query_shape, value_shape, key_shape = unpack_inputs(
            query_shape, value_shape, key_shape
        )
        check_shapes(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else key_shape
        self.query_kernel = self.add_weight(
            shape=(query_shape[-1], self.units),
            initializer=fresh(self.kernel_initializer, "query_kernel"),
            name="query_kernel",
        )
        self.key_kernel = self.add_weight(
            shape=(key_shape[-1], self.units),
            initializer=fresh(self.kernel_initializer, "key_kernel"),
            name="key_kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                initializer=fresh(self.bias_initializer, "bias"),
                name="bias",
            )
        self.score_kernel = self.add_weight(
            shape=(self.units,),
            initializer=fresh(self.kernel_initializer, "score_kernel"),
            name="score_kernel",
        )
        self.score_scale = None
        if self.normalize:
            self.score_scale = self.add_weight(
                shape=(),
                initializer=keras.initializers.Constant(math.sqrt(1.0 / self.units)),
                name="score_scale",
            )

    def _scores(self, query, key):
        for name, tensor, kernel in (
            ("query", query, self.query_kernel),
            ("key", key, self.key_kernel),
        ):
            if tensor.shape[-1] != kernel.shape[0]:
                raise ValueError(
                    f"Argument `{name}` must have last dimension {kernel.shape[0]} "
                    f"(as when the layer was built), got shape {tuple(tensor.shape)}."
                )
        projected_query = ops.matmul(query, self.query_kernel)  # (B, T_q, u)
        projected_key = ops.matmul(key, self.key_kernel)  # (B, T_k, u)
        if self.use_bias:
            projected_key = projected_key + self.bias
        # (B, T_q, 1, u) + (B, 1, T_k, u) -> (B, T_q, T_k, u) -> (B, T_q, T_k).
        hidden = ops.tanh(
            ops.expand_dims(projected_query, 2) + ops.expand_dims(projected_key, 1)
        )
        score_kernel = self.score_kernel
        if self.normalize:
            score_kernel = (
                self.score_scale
                * score_kernel
                * ops.rsqrt(ops.sum(ops.square(score_kernel)))
            )
        return ops.matmul(hidden, ops.cast(score_kernel, hidden.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "normalize": self.normalize,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
