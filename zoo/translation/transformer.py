"""`translate_transformer`: an encoder-decoder of keras_seq Transformer blocks."""

import math
import os

import keras
from keras import ops

from keras_seq import layers

from .model import PAD, START


def _embed(embedding, position, ids, start_index=0):
    """Token embeddings scaled by sqrt(d) plus sinusoidal positions (Vaswani et al.)."""
    # (No `mask_zero`: the blocks get their padding masks explicitly.)
    x = embedding(ids) * math.sqrt(embedding.output_dim)
    return position(x, start_index=start_index)


def build_transformer(config, source_vocabulary, target_vocabulary):
    """The teacher-forced model: `(source, target_in)` -> logits, as
    `zoo.translation.model.build_translator`.

    `num_layers` encoder and decoder blocks (post-norm, as the paper) of width
    `embedding_dim`, `num_heads` heads, feed-forward `intermediate_dim`;
    sinusoidal positional encoding; the decoder blocks' self-attention is
    causal and keeps a key/value cache for incremental decoding.
    """
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    source_embedding = keras.layers.Embedding(
        source_vocabulary, config.embedding_dim, name="source_embedding"
    )
    target_embedding = keras.layers.Embedding(
        target_vocabulary, config.embedding_dim, name="target_embedding"
    )
    position = layers.SinusoidalPositionalEncoding(add_to_inputs=True, name="position")
    source_mask = ops.not_equal(source, PAD)
    target_mask = ops.not_equal(target_in, PAD)
    x = keras.layers.Dropout(config.dropout)(_embed(source_embedding, position, source))
    for i in range(config.num_layers):
        x = layers.TransformerEncoderBlock(
            config.intermediate_dim,
            config.num_heads,
            dropout=config.dropout,
            name=f"encoder_{i}",
        )(x, mask=source_mask)
    encoded = x
    y = keras.layers.Dropout(config.dropout)(
        _embed(target_embedding, position, target_in)
    )
    for i in range(config.num_layers):
        y = layers.TransformerDecoderBlock(
            config.intermediate_dim,
            config.num_heads,
            dropout=config.dropout,
            name=f"decoder_{i}",
        )(
            y,
            encoded,
            decoder_sequence_mask=target_mask,
            encoder_sequence_mask=source_mask,
        )
    logits = keras.layers.Dense(target_vocabulary, name="logits")(y)
    return keras.Model([source, target_in], logits, name=config.name)


def encode_transformer(model, source, max_length):
    """`source` `(batch, S)` -> the decoding state of `step_function_transformer`.

    State: `(position (batch,), self-attention caches, cross-attention
    caches, source mask)`; every leaf has the batch axis first so that beam
    search can reorder it.
    """
    config_layers = [l for l in model.layers if l.name.startswith("encoder_")]
    decoders = [l for l in model.layers if l.name.startswith("decoder_")]
    mask = ops.not_equal(source, PAD)
    x = _embed(model.get_layer("source_embedding"), model.get_layer("position"), source)
    for block in config_layers:
        x = block(x, mask=mask)
    batch = ops.shape(source)[0]
    return (
        ops.zeros((batch,), "int32"),
        [block.initial_cache(batch, max_length) for block in decoders],
        [block.cross_attention_cache(x) for block in decoders],
        mask,
    )


def step_function_transformer(model):
    """`(tokens (n,), state) -> (logits (n, vocab), state)`: one position,
    the earlier ones read from the caches."""
    decoders = [l for l in model.layers if l.name.startswith("decoder_")]
    embedding = model.get_layer("target_embedding")
    position = model.get_layer("position")
    output = model.get_layer("logits")

    def step(tokens, state):
        index, self_caches, cross_caches, mask = state
        at = index[0]
        y = _embed(embedding, position, ops.expand_dims(tokens, 1), start_index=at)
        new_caches = []
        for block, self_cache, cross_cache in zip(decoders, self_caches, cross_caches):
            y, self_cache, _ = block(
                y,
                encoder_sequence_mask=mask,
                self_attention_cache=self_cache,
                self_attention_cache_update_index=at,
                cross_attention_cache=cross_cache,
            )
            new_caches.append(self_cache)
        return output(y[:, 0]), (index + 1, new_caches, cross_caches, mask)

    return step


@keras.saving.register_keras_serializable(package="keras_seq_zoo")
class MaskedSmoothedCrossEntropy(keras.losses.Loss):
    """Cross entropy with label smoothing over non-padding targets.

    The target distribution puts `1 - smoothing` on the gold token and
    `smoothing` spread evenly over the vocabulary (Szegedy et al. 2016, as in
    the Transformer paper); positions whose target is `PAD` are left out of
    the mean.

    `call` returns per-token values `(batch, time)`: zero at padding, and
    each real token's loss times `batch * time / real tokens`, so that
    Keras's default reduction (the mean over all positions) gives the mean
    over the real tokens, as `SparseCategoricalCrossentropy(ignore_class=...)`
    weighs its mask. That reduction also divides by the replicas of a
    `tf.distribute` strategy before their gradients are summed; a scalar
    returned here skipped it, and two replicas trained on (and reported)
    twice the loss.
    """

    def __init__(self, smoothing=0.1, name="masked_smoothed_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.smoothing = smoothing

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        gold = ops.take_along_axis(log_probs, ops.expand_dims(y_true, -1), axis=-1)
        loss = -(1 - self.smoothing) * gold[..., 0] - self.smoothing * ops.mean(
            log_probs, axis=-1
        )
        real = ops.cast(ops.not_equal(y_true, PAD), "float32")  # (batch, time)
        positions = ops.cast(ops.size(real), "float32")
        return loss * real * (positions / ops.maximum(ops.sum(real), 1.0))

    def get_config(self):
        return {**super().get_config(), "smoothing": self.smoothing}


def attention_weights_transformer(model, source, target_in):
    """The last decoder block's cross-attention `(batch, T, S)`, mean over heads."""
    encoders = [l for l in model.layers if l.name.startswith("encoder_")]
    decoders = [l for l in model.layers if l.name.startswith("decoder_")]
    source_mask = ops.not_equal(source, PAD)
    position = model.get_layer("position")
    x = _embed(model.get_layer("source_embedding"), position, source)
    for block in encoders:
        x = block(x, mask=source_mask)
    y = _embed(model.get_layer("target_embedding"), position, target_in)
    for block in decoders:
        y, weights = block(
            y,
            x,
            decoder_sequence_mask=ops.not_equal(target_in, PAD),
            encoder_sequence_mask=source_mask,
            return_attention_scores=True,
        )
    return ops.mean(weights, axis=1)


class _Encoder(keras.Model):
    """`source -> [*self-attention caches, *cross-attention caches, mask]`."""

    def __init__(self, model, max_length, **kwargs):
        super().__init__(**kwargs)
        self.translator = model
        self.max_length = max_length

    def call(self, source):
        _, self_caches, cross_caches, mask = encode_transformer(
            self.translator, source, self.max_length
        )
        return [*self_caches, *cross_caches, ops.cast(mask, "float32")]


class _DecoderStep(keras.Model):
    """`[tokens, positions, *self caches, *cross caches, mask] -> [logits,
    positions + 1, *self caches]` (`step_function_transformer`)."""

    def __init__(self, model, num_blocks, **kwargs):
        super().__init__(**kwargs)
        self.step = step_function_transformer(model)
        self.translator = model
        self.num_blocks = num_blocks

    def call(self, inputs):
        tokens, positions, *rest = inputs
        k = self.num_blocks
        self_caches, cross_caches, mask = rest[:k], rest[k : 2 * k], rest[-1]
        logits, (positions, self_caches, _, _) = self.step(
            tokens,
            (positions, list(self_caches), list(cross_caches), ops.cast(mask, "bool")),
        )
        return [logits, positions, *self_caches]


def export_transformer_steps(model, directory, max_length, format="onnx"):
    """Writes `translate_transformer`'s encoder and one cached decoder step
    as ONNX or LiteRT files, each checked in its runtime.

    - `encoder`: `source` int32 `(batch, S)` -> the blocks' self-attention
      caches `(batch, 2, max_length, heads, head_dim)` (zeros), their
      cross-attention caches `(batch, 2, S, heads, head_dim)`, then the
      source mask `(batch, S)` (1.0 at real tokens);
    - `decoder_step`: `tokens` int32 `(n,)` (`[START]` first), `positions`
      int32 `(n,)` (0 first; every row at the same position), the
      self-attention caches `self_cache_i`, the cross-attention caches
      `cross_cache_i` and `source_mask` -> the next logits, `positions + 1`
      and the updated self-attention caches.

    Returns the two `ExportedModel`s.
    """
    import numpy as np

    from keras_seq.export import export_model
    from keras_seq.export.portable import EXTENSIONS
    from keras_seq.export.seq2seq import export_encoder

    os.makedirs(directory, exist_ok=True)
    encoder_file, sources, encoded = export_encoder(
        _Encoder(model, max_length, name="encoder"), directory, format, PAD
    )
    k = (len(encoded[0]) - 1) // 2
    spec = keras.InputSpec
    self_shape, cross_shape = encoded[0][0].shape, encoded[0][k].shape
    signature = [
        spec(shape=(None,), dtype="int32", name="tokens"),
        spec(shape=(None,), dtype="int32", name="positions"),
        *[
            spec(shape=(None, *self_shape[1:]), dtype="float32", name=f"self_cache_{i}")
            for i in range(k)
        ],
        *[
            spec(
                shape=(None, cross_shape[1], None, *cross_shape[3:]),
                dtype="float32",
                name=f"cross_cache_{i}",
            )
            for i in range(k)
        ],
        spec(shape=(None, None), dtype="float32", name="source_mask"),
    ]
    steps = [
        [np.full((len(s),), START, "int32"), np.zeros((len(s),), "int32"), *state]
        for s, state in zip(sources, encoded)
    ]
    step_file = export_model(
        _DecoderStep(model, k, name="decoder_step"),
        os.path.join(directory, "decoder_step" + EXTENSIONS[format]),
        format=format,
        examples=steps,
        input_signature=[signature],
    )
    return encoder_file, step_file
