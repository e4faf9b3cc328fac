import keras
from keras import ops

from keras_seq.layers.attention.masking import masked_softmax
from keras_seq.utils import checks
from keras_seq.utils.initializers import fresh


@keras.saving.register_keras_serializable(package="keras_seq")
class AttentionPooling(keras.layers.Layer):
    """Pools a sequence into one vector by additive attention with a learned query.

    `score_t = w^T tanh(h_t W + b)`, `alpha = softmax(score)` over the real
    steps, output `sum_t alpha_t h_t` (Yang et al. 2016's word attention; the
    "attention pooling" of a many-to-one RNN classifier).

    Args:
        units: Positive integer, width of the scoring network.
        kernel_initializer: Initializer of `kernel` `(features, units)` and
            `score_kernel` `(units,)`. Default `"glorot_uniform"`.
        return_attention_scores: Also return the weights `(batch, time)`.

    Call arguments:
        inputs: `(batch, time, features)`.
        mask: Optional `(batch, time)` boolean mask (from the inputs' Keras
            mask); masked steps get weight exactly 0, and a sequence with no
            real step pools to zeros.

    Returns:
        `(batch, features)`, and `(batch, time)` weights if asked for.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import AttentionPooling
    >>> pooling = AttentionPooling(8)
    >>> tuple(pooling(np.ones((2, 5, 4), "float32")).shape)
    (2, 4)

    Reference:
        Yang et al., "Hierarchical attention networks for document
        classification", NAACL 2016.
    """

    def __init__(
        self,
        units,
        kernel_initializer="glorot_uniform",
        return_attention_scores=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = checks.check_positive_int("units", units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.return_attention_scores = bool(return_attention_scores)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "`AttentionPooling` expects inputs of shape (batch, time, "
                f"features) with a known feature size, got {input_shape}."
            )
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=fresh(self.kernel_initializer, "kernel"),
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer="zeros", name="bias"
        )
        self.score_kernel = self.add_weight(
            shape=(self.units, 1),
            initializer=fresh(self.kernel_initializer, "score_kernel"),
            name="score_kernel",
        )

    def call(self, inputs, mask=None):
        scores = ops.squeeze(
            ops.matmul(
                ops.tanh(ops.matmul(inputs, self.kernel) + self.bias), self.score_kernel
            ),
            -1,
        )  # (batch, time)
        if mask is not None:
            mask = ops.cast(mask, "bool")
        weights = masked_softmax(scores, mask)
        if mask is not None:
            # A sequence with no real step: zero weights, zero output.
            weights = weights * ops.cast(mask, weights.dtype)
        pooled = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)
        if self.return_attention_scores:
            return pooled, weights
        return pooled

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        pooled = (input_shape[0], input_shape[-1])
        if self.return_attention_scores:
            return pooled, (input_shape[0], input_shape[1])
        return pooled

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "return_attention_scores": self.return_attention_scores,
            }
        )
        return config
