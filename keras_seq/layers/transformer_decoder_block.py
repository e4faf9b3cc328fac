import keras
from keras import ops

from keras_seq.layers.attention import masking
from keras_seq.layers.base_transformer_block import (
    BaseTransformerBlock,
    check_heads_divide,
)
from keras_seq.utils import checks


@keras.saving.register_keras_serializable(package="keras_seq")
class TransformerDecoderBlock(BaseTransformerBlock):
    """Transformer decoder block with a key/value cache for incremental decoding.

    Sublayers, each wrapped like `keras_seq.layers.TransformerEncoderBlock`'s
    (post-norm, or pre-norm with `norm_first=True`): causal self-attention,
    cross-attention over the encoder output (built when the block is first
    called with an `encoder_sequence`; without one it is a decoder-only block),
    and the feed-forward layer.

    Incremental decoding: `initial_cache(batch, max_length)` gives a zero
    self-attention cache and `cross_attention_cache(encoder_sequence)` the
    projected encoder keys and values. Calling the block on the new step(s)
    with `self_attention_cache`, `self_attention_cache_update_index` (their
    position) and `cross_attention_cache` returns
    `(outputs, self_attention_cache, cross_attention_cache)` (a decoder-only
    block: `(outputs, self_attention_cache)`, as keras-hub); step-by-step
    outputs equal those of one causal pass over the whole sequence.

    Args:
        intermediate_dim: As `keras_seq.layers.TransformerEncoderBlock`.
        num_heads: As `keras_seq.layers.TransformerEncoderBlock`.
        dropout: As `keras_seq.layers.TransformerEncoderBlock`.
        activation: As `keras_seq.layers.TransformerEncoderBlock`.
        layer_norm_epsilon: As `keras_seq.layers.TransformerEncoderBlock`.
        norm_first: As `keras_seq.layers.TransformerEncoderBlock`.
        normalize_first: As `keras_seq.layers.TransformerEncoderBlock`.
        score: As `keras_seq.layers.TransformerEncoderBlock`.
        kernel_initializer: As `keras_seq.layers.TransformerEncoderBlock`.
        bias_initializer: As `keras_seq.layers.TransformerEncoderBlock`.
        seed: As `keras_seq.layers.TransformerEncoderBlock`.

    Call arguments:
        decoder_sequence: `(batch, T, model_dim)`.
        encoder_sequence: Optional `(batch, S, encoder_dim)`.
        decoder_sequence_mask: Optional `(batch, T)` boolean padding mask
            (filled in from a Keras mask).
        encoder_sequence_mask: Optional `(batch, S)` boolean padding mask.
        use_causal_mask: Step `t` sees steps `<= t` only. Default True.
        self_attention_cache: Optional `(batch, 2, max_length, heads, head_dim)`.
        self_attention_cache_update_index: Position of `decoder_sequence`'s
            first step in the cache.
        cross_attention_cache: Optional `(batch, 2, S, heads, head_dim)`.
        return_attention_scores: Also return the cross-attention weights
            `(batch, heads, T, S)` (for heatmaps).
        training: Whether dropout is active.
        decoder_padding_mask: keras-hub's name for `decoder_sequence_mask`
            (used instead of a Keras mask when given, as in keras-hub).
        encoder_padding_mask: keras-hub's name for `encoder_sequence_mask`
            (used instead of a Keras mask when given, as in keras-hub).
        decoder_attention_mask: Optional `(batch, T, T)` boolean mask of the
            self-attention (combined with the causal mask), as keras-hub.
        encoder_attention_mask: Optional `(batch, T, S)` boolean mask of the
            cross-attention, as keras-hub.
        cross_attention_cache_update_index: With `cross_attention_cache` and
            `encoder_sequence`: write the projected `encoder_sequence` into
            the cross-attention cache at this position before attending (as
            keras-hub). Default None: the cache is used as it is.

    Returns:
        `(batch, T, model_dim)`; with caches also the updated caches; the
        cross-attention weights last when asked.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import TransformerDecoderBlock
    >>> block = TransformerDecoderBlock(intermediate_dim=32, num_heads=2)
    >>> target, source = np.ones((2, 4, 8), "float32"), np.ones((2, 6, 8), "float32")
    >>> tuple(block(target, source).shape)
    (2, 4, 8)
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        checks.check_rank(
            "decoder_sequence", decoder_sequence_shape, 3, "(batch, time, model_dim)"
        )
        model_dim = decoder_sequence_shape[-1]
        self.head_dim = check_heads_divide(self.num_heads, model_dim)
        self.self_attention = self._attention("self_attention", self.head_dim)
        self.self_attention.build(decoder_sequence_shape, decoder_sequence_shape)
        self.self_attention_norm = self._norm(
            "self_attention_norm", decoder_sequence_shape
        )
        self.cross_attention = None
        if encoder_sequence_shape is not None:
            checks.check_rank(
                "encoder_sequence", encoder_sequence_shape, 3, "(batch, time, dim)"
            )
            self.cross_attention = self._attention("cross_attention", self.head_dim)
            self.cross_attention.build(decoder_sequence_shape, encoder_sequence_shape)
            self.cross_attention_norm = self._norm(
                "cross_attention_norm", decoder_sequence_shape
            )
        self._ffn_intermediate, self._ffn_output = self._feed_forward(
            model_dim, decoder_sequence_shape
        )
        self.feed_forward_norm = self._norm("feed_forward_norm", decoder_sequence_shape)

    def compute_output_shape(self, decoder_sequence_shape, encoder_sequence_shape=None):
        return decoder_sequence_shape

    def compute_output_spec(
        self,
        decoder_sequence,
        encoder_sequence=None,
        self_attention_cache=None,
        cross_attention_cache=None,
        return_attention_scores=False,
        **kwargs,
    ):
        spec = keras.KerasTensor(decoder_sequence.shape, decoder_sequence.dtype)
        results = (spec,)
        if self_attention_cache is not None:
            results += (keras.KerasTensor(self_attention_cache.shape, spec.dtype),)
            if cross_attention_cache is not None:
                results += (keras.KerasTensor(cross_attention_cache.shape, spec.dtype),)
        if return_attention_scores:
            source = (
                encoder_sequence.shape[1]
                if cross_attention_cache is None
                else cross_attention_cache.shape[2]
            )
            shape = (spec.shape[0], self.num_heads, spec.shape[1], source)
            results += (keras.KerasTensor(shape, spec.dtype),)
        return results[0] if len(results) == 1 else results

    def initial_cache(self, batch_size, max_length, model_dim=None):
        """A zero self-attention cache `(batch, 2, max_length, heads, head_dim)`.

        `head_dim = model_dim / num_heads`: `model_dim` is the decoder
        sequence's last axis, known once the block is built; pass it to make
        the cache of a block not built yet.
        """
        if model_dim is not None:
            head_dim = check_heads_divide(
                self.num_heads, checks.check_positive_int("model_dim", model_dim)
            )
            if self.built and head_dim != self.head_dim:
                raise ValueError(
                    f"Argument `model_dim` must be {self.head_dim * self.num_heads} "
                    f"(the model dimension the block was built with), got {model_dim}."
                )
        elif self.built:
            head_dim = self.head_dim
        else:
            raise ValueError(
                "`initial_cache` needs the model dimension: pass `model_dim=` "
                "(the decoder sequence's last axis), or build the block first "
                "(call it once, or `block.build(decoder_shape, encoder_shape)`)."
            )
        return ops.zeros(
            (batch_size, 2, max_length, self.num_heads, head_dim),
            dtype=self.compute_dtype,
        )

    def cross_attention_cache(self, encoder_sequence):
        """The projected encoder keys and values, `(batch, 2, S, heads, head_dim)`."""
        if not self.built:
            raise ValueError(
                "`cross_attention_cache` needs a built block (its key and value "
                "projections): call the block once, or "
                "`block.build(decoder_shape, encoder_shape)`, first."
            )
        if self.cross_attention is None:
            raise ValueError(
                "This block has no cross-attention: it was built without an "
                "`encoder_sequence`."
            )
        attention = self.cross_attention
        key = attention._project(
            encoder_sequence, attention.key_kernel, attention.key_bias
        )
        value = attention._project(
            encoder_sequence, attention.value_kernel, attention.value_bias
        )
        return ops.stack([key, value], axis=1)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_sequence_mask=None,
        encoder_sequence_mask=None,
        use_causal_mask=True,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        return_attention_scores=False,
        training=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        cross_attention_cache_update_index=None,
    ):
        if decoder_padding_mask is not None:
            decoder_sequence_mask = decoder_padding_mask
        if encoder_padding_mask is not None:
            encoder_sequence_mask = encoder_padding_mask
        checks.check_rank(
            "decoder_sequence", decoder_sequence.shape, 3, "(batch, time, model_dim)"
        )
        if cross_attention_cache_update_index is not None and (
            cross_attention_cache is None or encoder_sequence is None
        ):
            raise ValueError(
                "`cross_attention_cache_update_index` writes the projected "
                "`encoder_sequence` into `cross_attention_cache`: pass both, got "
                f"encoder_sequence={'None' if encoder_sequence is None else 'a tensor'}"
                f", cross_attention_cache="
                f"{'None' if cross_attention_cache is None else 'a tensor'}."
            )
        checks.check_floating("decoder_sequence", decoder_sequence)
        cached = self_attention_cache is not None
        if cached and self_attention_cache_update_index is None:
            raise ValueError(
                "`self_attention_cache` needs `self_attention_cache_update_index` "
                "(the position of the new steps), got None."
            )
        has_encoder = encoder_sequence is not None or cross_attention_cache is not None
        if has_encoder and self.cross_attention is None:
            raise ValueError(
                "This block was built without cross-attention (first called "
                "without `encoder_sequence`); it cannot attend to an encoder."
            )
        if self.cross_attention is not None and not has_encoder:
            raise ValueError(
                "This block has cross-attention: pass `encoder_sequence` (or "
                "`cross_attention_cache`)."
            )

        def self_attend(x):
            if not cached:
                return self.self_attention(
                    x,
                    x,
                    query_mask=decoder_sequence_mask,
                    value_mask=decoder_sequence_mask,
                    attention_mask=decoder_attention_mask,
                    use_causal_mask=use_causal_mask,
                    training=training,
                ), None
            # New steps at `index..index+T-1` see cache slots `<= their position`.
            max_length = ops.shape(self_attention_cache)[2]
            visible = masking.causal_mask(
                ops.shape(x)[1], max_length, offset=self_attention_cache_update_index
            )
            if not use_causal_mask:
                visible = ops.expand_dims(ops.arange(max_length), 0) < (
                    self_attention_cache_update_index + ops.shape(x)[1]
                )
            visible = ops.broadcast_to(
                visible, (ops.shape(x)[0], ops.shape(x)[1], max_length)
            )
            if decoder_attention_mask is not None:
                visible = ops.logical_and(
                    visible, ops.cast(decoder_attention_mask, "bool")
                )
            output, cache = self.self_attention(
                x,
                x,
                query_mask=decoder_sequence_mask,
                attention_mask=visible,
                cache=self_attention_cache,
                cache_update_index=self_attention_cache_update_index,
                training=training,
            )
            return output, cache

        x, new_self_cache = self._residual(
            decoder_sequence, self_attend, self.self_attention_norm, training
        )
        weights = None
        if self.cross_attention is not None:

            def cross_attend(x):
                if cross_attention_cache is not None:
                    output, weights, cache = self.cross_attention(
                        x,
                        x if encoder_sequence is None else encoder_sequence,
                        query_mask=decoder_sequence_mask,
                        value_mask=encoder_sequence_mask,
                        attention_mask=encoder_attention_mask,
                        cache=cross_attention_cache,
                        cache_update_index=cross_attention_cache_update_index,
                        return_attention_scores=True,
                        training=training,
                    )
                    return output, (weights, cache)
                output, weights = self.cross_attention(
                    x,
                    encoder_sequence,
                    query_mask=decoder_sequence_mask,
                    value_mask=encoder_sequence_mask,
                    attention_mask=encoder_attention_mask,
                    return_attention_scores=True,
                    training=training,
                )
                return output, (weights, cross_attention_cache)

            x, (weights, cross_attention_cache) = self._residual(
                x, cross_attend, self.cross_attention_norm, training
            )
        x, _ = self._residual(x, self._ffn, self.feed_forward_norm, training)
        results = (x,)
        if cached:
            results += (new_self_cache,)
            if self.cross_attention is not None:
                results += (cross_attention_cache,)
        if return_attention_scores:
            results += (weights,)
        return results[0] if len(results) == 1 else results
