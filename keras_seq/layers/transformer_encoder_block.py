import keras

from keras_seq.layers.base_transformer_block import (
    BaseTransformerBlock,
    check_heads_divide,
)
from keras_seq.utils import checks


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerEncoderBlock(BaseTransformerBlock):
    """Transformer encoder block: self-attention and feed-forward sublayers.

    Each sublayer `f` is wrapped as `LayerNorm(x + dropout(f(x)))` (post-norm,
    the paper's) or `x + dropout(f(LayerNorm(x)))` (`norm_first=True`, pre-norm,
    easier to train deep). The feed-forward sublayer is
    `Dense(model_dim)(Dense(intermediate_dim, activation)(x))`. Each head has
    `model_dim / num_heads` dimensions.

    Args:
        intermediate_dim: Positive integer, width of the feed-forward layer.
        num_heads: Positive integer; must divide the model dimension.
        dropout: Dropout rate on the attention weights and on each
            sublayer's output. Default 0.
        activation: Feed-forward activation. Default `"relu"`.
        layer_norm_epsilon: Default 1e-5.
        norm_first: Pre-norm (True) or post-norm (False, default).
        normalize_first: keras-hub's name for `norm_first` (either may be
            given).
        score: Attention score, `"dot"` or `"additive"`.
        kernel_initializer: For every projection.
        bias_initializer: For every projection.
        seed: Seed of the dropouts.

    Call arguments:
        inputs: `(batch, time, model_dim)`.
        mask: Optional `(batch, time)` boolean, False at padding (filled in from
            a Keras mask, e.g. `Embedding(mask_zero=True)`).
        padding_mask: keras-hub's name for `mask`; when given it is used
            instead of the Keras mask, as in keras-hub.
        attention_mask: Optional `(batch, time, time)` boolean (or any shape
            that broadcasts to it, as `MultiHeadAttention`).
        return_attention_scores: Also return the weights
            `(batch, heads, time, time)`.
        training: Whether dropout is active.

    Returns:
        `(batch, time, model_dim)` (and the weights when asked).

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import TransformerEncoderBlock
    >>> block = TransformerEncoderBlock(intermediate_dim=32, num_heads=2)
    >>> tuple(block(np.ones((2, 6, 8), "float32")).shape)
    (2, 6, 8)
    """

    def build(self, input_shape):
        checks.check_rank("inputs", input_shape, 3, "(batch, time, model_dim)")
        model_dim = input_shape[-1]
        key_dim = check_heads_divide(self.num_heads, model_dim)
        self.self_attention = self._attention("self_attention", key_dim)
        self.self_attention.build(input_shape, input_shape)
        self.self_attention_norm = self._norm("self_attention_norm", input_shape)
        # Built before the feed-forward layers: keras-hub's weight order, so
        # that `set_weights` moves weights between the two.
        self.feed_forward_norm = self._norm("feed_forward_norm", input_shape)
        self._ffn_intermediate, self._ffn_output = self._feed_forward(
            model_dim, input_shape
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs, return_attention_scores=False, **kwargs):
        spec = keras.KerasTensor(inputs.shape, inputs.dtype)
        if not return_attention_scores:
            return spec
        length = inputs.shape[1]
        weights = (inputs.shape[0], self.num_heads, length, length)
        return spec, keras.KerasTensor(weights, inputs.dtype)

    def call(
        self,
        inputs,
        mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        padding_mask=None,
    ):
        if padding_mask is not None:
            mask = padding_mask
        checks.check_rank("inputs", inputs.shape, 3, "(batch, time, model_dim)")
        checks.check_floating("inputs", inputs)

        def attend(x):
            return self.self_attention(
                x,
                x,
                query_mask=mask,
                value_mask=mask,
                attention_mask=attention_mask,
                return_attention_scores=True,
                training=training,
            )

        x, weights = self._residual(inputs, attend, self.self_attention_norm, training)
        x, _ = self._residual(x, self._ffn, self.feed_forward_norm, training)
        if return_attention_scores:
            return x, weights
        return x
