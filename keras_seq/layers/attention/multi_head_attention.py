import math

import keras
from keras import ops

from keras_seq.layers.attention import masking
from keras_seq.utils import checks
from keras_seq.utils.initializers import fresh


def matmul_transposed(a, b):
    """`a @ swapaxes(b, -1, -2)`, without materialising the transpose on TF."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.matmul(a, b, transpose_b=True)
    return ops.matmul(a, ops.swapaxes(b, -1, -2))


def _write_cache(cache, new, index):
    """`cache` `(batch, 2, max_length, heads, head_dim)` with `new` at `index`.

    On TensorFlow `slice_update` becomes `XlaDynamicUpdateSlice`, an op outside
    core TensorFlow's op set (a TF Serving binary may lack it): there the
    cache is two slices and the new steps, concatenated (core ops only).
    """
    if keras.backend.backend() != "tensorflow":
        return ops.slice_update(cache, [0, 0, index, 0, 0], new)
    steps = ops.shape(new)[2]
    joined = ops.concatenate(
        [cache[:, :, :index], new, cache[:, :, index + steps :]], axis=2
    )
    return ops.reshape(joined, ops.shape(cache))


@keras.saving.register_keras_serializable(package="keras_seq")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with a dot-product or an additive score.

    Each head `i` projects the query, key and value (`Q W_i^q`, `K W_i^k`,
    `V W_i^v`), scores every query against every key, takes the softmax over
    the keys and the weighted sum of its values; the heads are concatenated and
    projected by `W_o`. With `score="dot"` the score is `q . k / sqrt(key_dim)`
    and the layer is `keras.layers.MultiHeadAttention` (same weight shapes and
    order, so `set_weights` moves weights between them); with
    `score="additive"` it is Bahdanau's `w_i^T tanh(q + k)` per head.

    Args:
        num_heads: Positive integer, number of heads.
        key_dim: Positive integer, size of each head's query and key.
        value_dim: Size of each head's value. Default `key_dim`.
        score: `"dot"` (default) or `"additive"`.
        dropout: Dropout rate on the attention weights (training only).
        use_bias: Whether the projections have biases. Default True.
        output_shape: The output's shape after the batch and time axes: an
            integer or a tuple (e.g. `(2, 3)` gives `(batch, T_q, 2, 3)`).
            Default: the query's last dimension.
        attention_axes: None, or `(1,)` (the time axis, the same thing):
            keras_seq attends over the time axis of `(batch, time, dim)`
            inputs; other axes are refused (merge them into the batch).
        sliding_window: Optional positive integer: query `i` sees keys `j`
            with `|i - j| < sliding_window` only (combined with the other
            masks, e.g. `use_causal_mask`). Default None.
        flash_attention: None or False (there is no separate flash kernel;
            True is refused).
        use_gate: Gate each head's output by `sigmoid(query W_g + b_g)`
            before the output projection ("Gated Attention for Large
            Language Models", 2025, as Keras).
            Default False.
        kernel_initializer: For all projections (and the
            additive `score_kernel` `(num_heads, key_dim)`).
        bias_initializer: For all projections.
        kernel_regularizer: For all projections, as Keras.
        bias_regularizer: For all projections, as Keras.
        kernel_constraint: For all projections, as Keras.
        bias_constraint: For all projections, as Keras.
        seed: Seed of the dropout.

    Weights (Keras's layout and order): `query_kernel` `(d_q, heads,
    key_dim)`, `query_bias` `(heads, key_dim)`, the same for `key_*`, then
    `gate_*` (`use_gate`, `(d_q, heads, value_dim)`) and `value_*`
    (`value_dim`), `output_kernel` `(heads, value_dim, *output_shape)`,
    `output_bias` `output_shape`; additive: `score_kernel` after the value
    projection.

    Call arguments:
        query: `(batch, T_q, d_q)`.
        value: `(batch, T_k, d_v)`.
        key: Optional `(batch, T_k, d_k)`; `value` is used when None.
        query_mask: As `keras_seq.layers.DotProductAttention` (a Keras mask
            on `query` fills it in).
        value_mask: As `keras_seq.layers.DotProductAttention` (a Keras mask
            on `value` fills it in).
        key_mask: As `keras_seq.layers.DotProductAttention` (a Keras mask
            on `key` fills it in).
        use_causal_mask: As `keras_seq.layers.DotProductAttention`.
        attention_mask: Optional boolean mask, False where a query must not
            see a key: `(batch, T_q, T_k)`, or any shape that broadcasts to
            `(batch, heads, T_q, T_k)` as in Keras (`(T_q, T_k)`,
            `(1, T_q, T_k)`, `(batch, heads, T_q, T_k)`, ...).
        return_attention_scores: Also return the weights
            `(batch, heads, T_q, T_k)`.
        training: Whether dropout is active.
        cache: Optional `(batch, 2, T_max, heads, key_dim)` keys and values
            for incremental decoding (needs `value_dim == key_dim`). With
            `cache_update_index=None` it holds precomputed keys and values
            (cross-attention: `key` and `value` are not used); otherwise the
            projected `key` / `value` of the new steps are written at
            `cache_update_index` and the query attends over the whole cache
            (mask the slots not filled yet with `attention_mask`).
        cache_update_index: Integer (tensor) position of the new steps.

    Returns:
        `(batch, T_q, *output_shape)`, then the weights when asked, then the
        updated cache when `cache` is given.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import MultiHeadAttention
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.ones((3, 5, 8), "float32")
    >>> tuple(mha(x, x, use_causal_mask=True).shape)
    (3, 5, 8)

    References:
        Vaswani et al., "Attention is all you need", NeurIPS 2017.
        Bahdanau, Cho & Bengio, ICLR 2015 (the additive score).
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        score="dot",
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = checks.check_positive_int("num_heads", num_heads)
        self.key_dim = checks.check_positive_int("key_dim", key_dim)
        self.value_dim = checks.check_positive_int(
            "value_dim", key_dim if value_dim is None else value_dim
        )
        self.score = checks.check_choice("score", score, ("dot", "additive"))
        self.dropout = checks.check_rate("dropout", dropout)
        self.use_bias = bool(use_bias)
        if output_shape is not None:
            dims = (
                tuple(output_shape)
                if isinstance(output_shape, (list, tuple))
                else (output_shape,)
            )
            if not dims or not all(
                isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims
            ):
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape!r}. Received an invalid "
                    "value for argument `output_shape`, expected a positive "
                    "integer or a tuple of them."
                )
            output_shape = dims
        self._output_shape = output_shape
        if attention_axes not in (None, 1, (1,), [1]):
            raise ValueError(
                "Received an invalid value for argument `attention_axes`, "
                "expected None or (1,) (keras_seq attends over the time axis "
                f"of (batch, time, dim) inputs), got {attention_axes!r}. Merge "
                "the other axes into the batch axis instead."
            )
        self.attention_axes = None if attention_axes is None else (1,)
        if sliding_window is not None:
            checks.check_positive_int("sliding_window", sliding_window)
        self.sliding_window = sliding_window
        if flash_attention not in (None, False):
            raise ValueError(
                "Received an invalid value for argument `flash_attention`, "
                "expected None or False: keras_seq's MultiHeadAttention has no "
                f"flash-attention kernel, got {flash_attention!r}. Use "
                "`keras.layers.MultiHeadAttention(flash_attention=True)` for it."
            )
        self.flash_attention = flash_attention
        self.use_gate = bool(use_gate)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.seed = seed
        if self.dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _projection_weights(self, name, kernel_shape, bias_shape):
        kernel = self.add_weight(
            shape=kernel_shape,
            initializer=fresh(self.kernel_initializer, f"{name}_kernel"),
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name=f"{name}_kernel",
        )
        bias = None
        if self.use_bias:
            bias = self.add_weight(
                shape=bias_shape,
                initializer=fresh(self.bias_initializer, f"{name}_bias"),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name=f"{name}_bias",
            )
        return kernel, bias

    def _projection(self, name, input_dim, size):
        return self._projection_weights(
            name, (input_dim, self.num_heads, size), (self.num_heads, size)
        )

    def _output_dims(self, query_shape):
        return self._output_shape or (query_shape[-1],)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        masking.check_key_value_shapes(value_shape, key_shape)
        for name, shape in (
            ("query", query_shape),
            ("value", value_shape),
            ("key", key_shape),
        ):
            checks.check_rank(name, shape, 3, "(batch, time, dim)")
        self.output_dims = self._output_dims(query_shape)
        self.query_kernel, self.query_bias = self._projection(
            "query", query_shape[-1], self.key_dim
        )
        self.key_kernel, self.key_bias = self._projection(
            "key", key_shape[-1], self.key_dim
        )
        self.gate_kernel = self.gate_bias = None
        if self.use_gate:
            self.gate_kernel, self.gate_bias = self._projection(
                "gate", query_shape[-1], self.value_dim
            )
        self.value_kernel, self.value_bias = self._projection(
            "value", value_shape[-1], self.value_dim
        )
        if self.score == "additive":
            self.score_kernel = self.add_weight(
                shape=(self.num_heads, self.key_dim),
                initializer=fresh(self.kernel_initializer, "score_kernel"),
                name="score_kernel",
            )
        self.output_kernel, self.output_bias = self._projection_weights(
            "output",
            (self.num_heads, self.value_dim, *self.output_dims),
            self.output_dims,
        )

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        masking.check_key_value_shapes(value_shape, key_shape)
        return (*tuple(query_shape)[:-1], *self._output_dims(query_shape))

    def compute_output_spec(
        self,
        query,
        value,
        key=None,
        return_attention_scores=False,
        cache=None,
        cache_update_index=None,
        **kwargs,
    ):
        output_shape = (*query.shape[:-1], *self._output_dims(query.shape))
        results = (keras.KerasTensor(output_shape, query.dtype),)
        if return_attention_scores:
            keys = value.shape[1] if cache is None else cache.shape[2]
            shape = (query.shape[0], self.num_heads, query.shape[1], keys)
            results += (keras.KerasTensor(shape, query.dtype),)
        if cache is not None:
            results += (keras.KerasTensor(cache.shape, cache.dtype),)
        return results[0] if len(results) == 1 else results

    def _project(self, inputs, kernel, bias):
        """`(batch, T, d)` -> `(batch, T, heads, size)` as one 2-D matmul."""
        heads, size = kernel.shape[1], kernel.shape[2]
        projected = ops.matmul(inputs, ops.reshape(kernel, (kernel.shape[0], -1)))
        if bias is not None:
            projected = projected + ops.reshape(bias, (-1,))
        return ops.reshape(projected, (*ops.shape(inputs)[:-1], heads, size))

    def _check_inputs(self, query, value, key):
        masking.check_attention_inputs(query, value, key)
        for name, tensor, kernel in (
            ("query", query, self.query_kernel),
            ("key", key, self.key_kernel),
            ("value", value, self.value_kernel),
        ):
            if tensor.shape[-1] != kernel.shape[0]:
                raise ValueError(
                    f"Argument `{name}` must have last dimension {kernel.shape[0]} "
                    f"(as when the layer was built), got shape {tuple(tensor.shape)}."
                )

    def _check_cache(self, cache):
        expected = (2, None, self.num_heads, self.key_dim)
        shape = tuple(cache.shape)
        if self.value_dim != self.key_dim:
            raise ValueError(
                "A key/value `cache` needs `value_dim == key_dim`, got "
                f"key_dim={self.key_dim} and value_dim={self.value_dim}."
            )
        if len(shape) != 5 or any(
            e is not None and s is not None and s != e
            for s, e in zip(shape[1:], expected)
        ):
            raise ValueError(
                "Argument `cache` must have shape (batch, 2, max_length, "
                f"{self.num_heads}, {self.key_dim}), got shape {shape}."
            )

    def _scores(self, query, key):
        """`(B, H, T_q, k)`, `(B, H, T_k, k)` -> `(B, H, T_q, T_k)`."""
        if self.score == "dot":
            query = query * ops.cast(1.0 / math.sqrt(self.key_dim), query.dtype)
            return matmul_transposed(query, key)
        # Per head: w_h . tanh(q + k), over (B, H, T_q, T_k, key_dim).
        hidden = ops.tanh(ops.expand_dims(query, 3) + ops.expand_dims(key, 2))
        score_kernel = ops.reshape(self.score_kernel, (self.num_heads, 1, 1, -1))
        return ops.sum(hidden * score_kernel, axis=-1)

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        cache=None,
        cache_update_index=None,
    ):
        if key is None:
            key = value
            key_mask = None
        if cache is not None:
            self._check_cache(cache)
        if cache is not None and cache_update_index is None:
            # Precomputed keys and values (cross-attention).
            checks.check_rank("query", query.shape, 3, "(batch, time, dim)")
            projected_query = self._project(query, self.query_kernel, self.query_bias)
            projected_key, projected_value = cache[:, 0], cache[:, 1]
            value = projected_value
        else:
            self._check_inputs(query, value, key)
            # Three matmuls: measured faster on a TF CPU than one fused QKV
            # matmul for self-attention (the concatenated output must be split
            # and transposed again).
            projected_query = self._project(query, self.query_kernel, self.query_bias)
            projected_key = self._project(key, self.key_kernel, self.key_bias)
            projected_value = self._project(value, self.value_kernel, self.value_bias)
            if cache is not None:
                new = ops.stack([projected_key, projected_value], axis=1)
                cache = _write_cache(
                    cache, ops.cast(new, cache.dtype), cache_update_index
                )
                projected_key, projected_value = cache[:, 0], cache[:, 1]
                value = projected_value
        mask, may_have_empty_rows = masking.attention_mask(
            query,
            value,
            query_mask=query_mask,
            value_mask=value_mask,
            key_mask=key_mask,
            attention_mask=attention_mask,
            use_causal_mask=use_causal_mask,
            num_heads=self.num_heads,
            sliding_window=self.sliding_window,
            position_offset=0 if cache_update_index is None else cache_update_index,
        )
        if mask is not None and len(mask.shape) == 3:
            mask = ops.expand_dims(mask, 1)  # one mask for all heads
        # (B, T, H, size) -> (B, H, T, size)
        query_h, key_h, value_h = (
            ops.transpose(x, (0, 2, 1, 3))
            for x in (projected_query, projected_key, projected_value)
        )
        dropout_fn = masking.weights_dropout(self, training)

        # context: (B, H, T_q, value_dim)
        weights, context = masking.attend(
            self._scores(query_h, key_h), value_h, mask, may_have_empty_rows, dropout_fn
        )
        context = ops.transpose(context, (0, 2, 1, 3))  # (B, T_q, H, value_dim)
        if self.use_gate:
            gate = self._project(query, self.gate_kernel, self.gate_bias)
            context = context * ops.sigmoid(gate)
        context = ops.reshape(
            context, (*ops.shape(query)[:-1], self.num_heads * self.value_dim)
        )
        output_size = math.prod(self.output_dims)
        output = ops.matmul(context, ops.reshape(self.output_kernel, (-1, output_size)))
        if self.use_bias:
            output = output + ops.reshape(self.output_bias, (-1,))
        if len(self.output_dims) > 1:
            output = ops.reshape(output, (*ops.shape(query)[:-1], *self.output_dims))
        results = (output,)
        if return_attention_scores:
            results += (weights,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "score": self.score,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_shape": self._output_shape,
                "attention_axes": self.attention_axes,
                "sliding_window": self.sliding_window,
                "flash_attention": self.flash_attention,
                "use_gate": self.use_gate,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(
                    self.kernel_constraint
                ),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "seed": self.seed,
            }
        )
        return config
