"""The shared part of the Transformer encoder and decoder blocks (not exported)."""

import keras

from keras_seq.layers.attention.multi_head_attention import MultiHeadAttention
from keras_seq.utils import checks
from keras_seq.utils.initializers import fresh


def check_heads_divide(num_heads, model_dim):
    if model_dim % num_heads:
        raise ValueError(
            f"`num_heads` ({num_heads}) must divide the model dimension (the "
            f"input's last axis), got model dimension {model_dim}."
        )
    return model_dim // num_heads


class BaseTransformerBlock(keras.layers.Layer):
    """Arguments, sublayer builders and the residual wrapper of both blocks."""

    def __init__(
        self,
        intermediate_dim,
        num_heads,
        dropout=0.0,
        activation="relu",
        layer_norm_epsilon=1e-5,
        norm_first=False,
        score="dot",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed=None,
        normalize_first=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if normalize_first is not None:
            # keras-hub's name for `norm_first`.
            if norm_first and not normalize_first:
                raise ValueError(
                    "Arguments `norm_first` and `normalize_first` (keras-hub's "
                    "name for it) disagree: got norm_first=True, "
                    f"normalize_first={normalize_first!r}. Pass one of them."
                )
            norm_first = normalize_first
        self.intermediate_dim = checks.check_positive_int(
            "intermediate_dim", intermediate_dim
        )
        self.num_heads = checks.check_positive_int("num_heads", num_heads)
        self.dropout = checks.check_rate("dropout", dropout)
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.norm_first = bool(norm_first)
        self.score = checks.check_choice("score", score, ("dot", "additive"))
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def _feed_forward(self, model_dim, input_shape):
        first = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=fresh(
                self.kernel_initializer, "feed_forward_intermediate"
            ),
            bias_initializer=fresh(self.bias_initializer, "feed_forward_intermediate"),
            dtype=self.dtype_policy,
            name="feed_forward_intermediate",
        )
        second = keras.layers.Dense(
            model_dim,
            kernel_initializer=fresh(self.kernel_initializer, "feed_forward_output"),
            bias_initializer=fresh(self.bias_initializer, "feed_forward_output"),
            dtype=self.dtype_policy,
            name="feed_forward_output",
        )
        first.build(input_shape)
        second.build((*input_shape[:-1], self.intermediate_dim))
        return first, second

    def _norm(self, name, input_shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(input_shape)
        return norm

    def _residual(self, x, sublayer, norm, training):
        """Post-norm `LN(x + drop(f(x)))` or pre-norm `x + drop(f(LN(x)))`."""
        inner = norm(x) if self.norm_first else x
        y, extra = sublayer(inner)
        if training and self.dropout > 0:
            y = keras.random.dropout(y, rate=self.dropout, seed=self.seed_generator)
        out = x + y
        return (out if self.norm_first else norm(out)), extra

    def _ffn(self, x):
        return self._ffn_output(self._ffn_intermediate(x)), None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "norm_first": self.norm_first,
                "score": self.score,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "seed": self.seed,
            }
        )
        return config

    def _attention(self, name, key_dim):
        return MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=key_dim,
            score=self.score,
            dropout=self.dropout,
            kernel_initializer=fresh(self.kernel_initializer, name),
            bias_initializer=fresh(self.bias_initializer, name),
            seed=self.seed,
            dtype=self.dtype_policy,
            name=name,
        )
