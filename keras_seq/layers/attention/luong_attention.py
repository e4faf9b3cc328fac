import keras
from keras import ops

from keras_seq.layers.attention.base_attention import (
    BaseAttention,
    check_shapes,
    unpack_inputs,
)
from keras_seq.utils import checks
from keras_seq.utils.initializers import fresh

SCORE_MODES = ("dot", "general", "concat")


@keras.saving.register_keras_serializable(package="keras_seq")
class LuongAttention(BaseAttention):
    """Luong (multiplicative) attention, with the three scores of Luong et al.

    For a query (decoder state) `h_t` and a key (encoder output) `h_s`:

    - `"dot"`: `h_t^T h_s` (query and key of one width, no weights);
    - `"general"` (default): `h_t^T W_a h_s`, `W_a` the `kernel` of shape
      `(d_k, d_q)` (`tfa.seq2seq.LuongAttention`: the memory through a
      bias-free dense layer of `d_q` units, then the dot product);
    - `"concat"`: `v_a^T tanh(W_a [h_t; h_s])`, `W_a` split into
      `query_kernel` `(d_q, units)` and `key_kernel` `(d_k, units)`, `v_a`
      the `score_kernel` `(units,)`.

    The weights are the softmax of the scores over the keys, the output the
    weighted sum of the values. With `use_scale=True` a trainable scalar
    `scale` (initialised to 1) multiplies the scores, as tfa's `scale=True`.

    Args:
        score_mode: `"dot"`, `"general"` or `"concat"`.
        units: Positive integer, the width of the `"concat"` scoring network;
            required for `"concat"` and refused for the other two.
        use_scale: Learn a scalar factor of the scores. Default False.
        kernel_initializer: Initializer of the kernels.
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
    >>> from keras_seq.layers import LuongAttention
    >>> attention = LuongAttention()  # "general"
    >>> state, encoded = np.ones((2, 32), "float32"), np.ones((2, 7, 64), "float32")
    >>> context, weights = attention(state, encoded, return_attention_scores=True)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 64), (2, 7))

    Reference:
        Luong, Pham & Manning, "Effective approaches to attention-based neural
        machine translation", EMNLP 2015, eq. 8.
    """

    def __init__(
        self,
        score_mode="general",
        units=None,
        use_scale=False,
        kernel_initializer="glorot_uniform",
        dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        self.score_mode = checks.check_choice("score_mode", score_mode, SCORE_MODES)
        if score_mode == "concat":
            if units is None:
                raise ValueError(
                    "Argument `units` is required with score_mode='concat' (the "
                    "width of its scoring network), got None."
                )
            units = checks.check_positive_int("units", units)
        elif units is not None:
            raise ValueError(
                f"Argument `units` applies to score_mode='concat' only, got "
                f"units={units!r} with score_mode={score_mode!r} (the 'general' "
                "kernel maps the keys to the query's width)."
            )
        self.units = units
        self.use_scale = bool(use_scale)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, value_shape=None, key_shape=None):
        query_shape, value_shape, key_shape = unpack_inputs(
            query_shape, value_shape, key_shape
        )
        check_shapes(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else key_shape
        d_q, d_k = query_shape[-1], key_shape[-1]
        if self.score_mode == "dot" and d_q != d_k:
            raise ValueError(
                "score_mode='dot' needs query and key of one width: got query "
                f"shape {tuple(query_shape)} and key shape {tuple(key_shape)} "
                "(use score_mode='general' to map the keys to the query's width)."
            )
        if self.score_mode == "general":
            self.kernel = self.add_weight(
                shape=(d_k, d_q),
                initializer=fresh(self.kernel_initializer, "kernel"),
                name="kernel",
            )
        if self.score_mode == "concat":
            self.query_kernel = self.add_weight(
                shape=(d_q, self.units),
                initializer=fresh(self.kernel_initializer, "query_kernel"),
                name="query_kernel",
            )
            self.key_kernel = self.add_weight(
                shape=(d_k, self.units),
                initializer=fresh(self.kernel_initializer, "key_kernel"),
                name="key_kernel",
            )
            self.score_kernel = self.add_weight(
                shape=(self.units,),
                initializer=fresh(self.kernel_initializer, "score_kernel"),
                name="score_kernel",
            )
        if self.use_scale:
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def _scores(self, query, key):
        if self.score_mode == "general":
            built = (self.kernel.shape[1], self.kernel.shape[0])
        elif self.score_mode == "concat":
            built = (self.query_kernel.shape[0], self.key_kernel.shape[0])
        else:
            built = (key.shape[-1], query.shape[-1])
        for name, tensor, width in (("query", query, built[0]), ("key", key, built[1])):
            if tensor.shape[-1] != width:
                raise ValueError(
                    f"Argument `{name}` must have last dimension {width} (as when "
                    f"the layer was built), got shape {tuple(tensor.shape)}."
                )
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -1, -2))
        elif self.score_mode == "general":
            projected_key = ops.matmul(key, self.kernel)  # (B, T_k, d_q)
            scores = ops.matmul(query, ops.swapaxes(projected_key, -1, -2))
        else:
            projected_query = ops.matmul(query, self.query_kernel)
            projected_key = ops.matmul(key, self.key_kernel)
            hidden = ops.tanh(
                ops.expand_dims(projected_query, 2) + ops.expand_dims(projected_key, 1)
            )
            scores = ops.matmul(hidden, self.score_kernel)
        if self.use_scale:
            scores = scores * ops.cast(self.scale, scores.dtype)
        return scores

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "score_mode": self.score_mode,
                "units": self.units,
                "use_scale": self.use_scale,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
