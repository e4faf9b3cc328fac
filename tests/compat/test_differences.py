"""keras_seq against its Keras / keras-hub counterparts: same numbers with
moved weights, and each deliberate difference of docs/compatibility.md."""

import keras
import keras_hub
import numpy as np
import pytest

from keras_seq import layers
from keras_seq.testing import TestCase


def data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def randomise(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [
            rng.normal(scale=0.3, size=w.shape).astype("float32")
            + (1.0 if "gamma" in w.path else 0.0)
            for w in layer.weights
        ]
    )


@pytest.mark.parametrize("normalize_first", [False, True])
def test_transformer_encoder_equals_keras_hub(normalize_first):
    x = data((2, 5, 8))
    padding = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    theirs = keras_hub.layers.TransformerEncoder(16, 2, normalize_first=normalize_first)
    ours = layers.TransformerEncoderBlock(16, 2, normalize_first=normalize_first)
    theirs(x)
    ours(x)
    randomise(ours)
    theirs.set_weights(ours.get_weights())  # the same order and shapes
    expected = keras.ops.convert_to_numpy(theirs(x, padding_mask=padding))
    got = keras.ops.convert_to_numpy(ours(x, padding_mask=padding))
    # Padded steps differ on purpose (all-masked query rows, below).
    TestCase().assertAllClose(got[padding], expected[padding], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_transformer_decoder_equals_keras_hub(normalize_first):
    target, source = data((2, 5, 8)), data((2, 6, 8), 1)
    target_padding = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], bool)
    source_padding = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    theirs = keras_hub.layers.TransformerDecoder(16, 2, normalize_first=normalize_first)
    ours = layers.TransformerDecoderBlock(16, 2, normalize_first=normalize_first)
    theirs(target, source)
    ours(target, source)
    randomise(ours)
    theirs.set_weights(ours.get_weights())
    masks = {
        "decoder_padding_mask": target_padding,
        "encoder_padding_mask": source_padding,
    }
    expected = keras.ops.convert_to_numpy(theirs(target, source, **masks))
    got = keras.ops.convert_to_numpy(ours(target, source, **masks))
    # Padded decoder steps differ on purpose (all-masked query rows, below).
    TestCase().assertAllClose(
        got[target_padding], expected[target_padding], atol=1e-5, rtol=1e-5
    )


def test_fully_masked_query_rows_are_zero_not_a_mean():
    """Difference: a query that may see no key outputs a zero context and
    zero weights, whatever the call. Keras 3.15 does so when it returns the
    scores, but its fused path (no scores asked) gives the mean of the
    values there."""
    query, value = data((1, 2, 4)), data((1, 3, 4), 1)
    mask = np.array([[[True, True, False], [False, False, False]]])
    ours = layers.MultiHeadAttention(2, 2, use_bias=False)
    theirs = keras.layers.MultiHeadAttention(2, 2, use_bias=False)
    ours(query, value)
    theirs(query, value)
    randomise(ours)
    theirs.set_weights(ours.get_weights())
    got = keras.ops.convert_to_numpy(ours(query, value, attention_mask=mask))
    fused = keras.ops.convert_to_numpy(theirs(query, value, attention_mask=mask))
    _, got_scores = ours(
        query, value, attention_mask=mask, return_attention_scores=True
    )
    case = TestCase()
    case.assertAllClose(got[:, 0], fused[:, 0], atol=1e-5)
    case.assertAllClose(got[:, 1], np.zeros((1, 4)))  # no bias: zero context
    case.assertAllClose(got_scores[:, :, 1], np.zeros((1, 2, 3)))
    assert np.abs(fused[:, 1]).max() > 1e-3


def test_dot_product_attention_scales_unless_told_as_keras():
    """Difference: `DotProductAttention()` divides the scores by sqrt(d);
    `keras.layers.Attention()` does not. `use_scale=False` gives Keras's."""
    query, value = data((2, 3, 4)), data((2, 5, 4), 1)
    keras_default = keras.layers.Attention()([query, value])
    as_keras = layers.DotProductAttention(use_scale=False)([query, value])
    scaled = layers.DotProductAttention()(query, value)
    by_hand = layers.DotProductAttention(scale=False)(query / 2.0, value)  # sqrt(4)
    case = TestCase()
    case.assertAllClose(as_keras, keras_default, atol=1e-6)
    case.assertAllClose(scaled, by_hand, atol=1e-6)
    assert not np.allclose(keras.ops.convert_to_numpy(scaled), keras_default, atol=1e-3)


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_recurrent_layers_propagate_the_mask(cls):
    """Difference from keras-nightly (keras PR 23235): keras_seq's recurrent
    layers keep `supports_masking=True` and hand the mask on with
    `return_sequences=True`, so a following layer sees the padding."""
    tokens = np.array([[3, 4, 0, 0], [1, 2, 5, 0]])
    inputs = keras.Input((4,), dtype="int32")
    embedded = keras.layers.Embedding(8, 3, mask_zero=True)(inputs)
    sequence = cls(5, return_sequences=True)(embedded)
    model = keras.Model(inputs, sequence)
    layer = model.layers[-1]
    assert layer.supports_masking
    mask = layer.compute_mask(embedded, keras.ops.convert_to_tensor(tokens != 0))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(mask), tokens != 0)
    assert layer.compute_mask(embedded, None) is None


def test_bidirectional_backward_reads_the_real_steps_reversed():
    """Difference: the backward direction reads each sequence's real steps
    in reverse (`tf.reverse_sequence`); Keras flips the whole padded tensor
    and relies on the inner layer to skip padding. With a layer that honours
    the mask both agree (tests/compat/test_keras_bidirectional.py); the
    backward outputs at real steps here never depend on the padding."""
    x = data((2, 5, 3))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    bi = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode=None)
    _, backward = bi(x, mask=mask)
    other_padding = x.copy()
    other_padding[0, 3:] = 100.0
    _, backward_again = bi(other_padding, mask=mask)
    TestCase().assertAllClose(backward_again, backward, atol=1e-6)
    # The first real step's backward output has read the three real steps.
    alone = layers.GRU(4, return_sequences=True)
    alone(x[:1, :3])
    alone.set_weights(bi.backward_layer.get_weights())
    reference = keras.ops.convert_to_numpy(alone(x[:1, 2::-1]))[0, ::-1]
    TestCase().assertAllClose(
        keras.ops.convert_to_numpy(backward)[0, :3], reference, atol=1e-5
    )
