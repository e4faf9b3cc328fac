import keras
import numpy as np
import pytest

from keras_seq.layers import AttentionPooling
from keras_seq.testing import TestCase

BATCH, TIME, FEATURES, UNITS = 3, 5, 4, 6


def data():
    return (
        np.random.default_rng(0).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    )


def padding(lengths):
    return np.arange(TIME)[None, :] < np.array(lengths)[:, None]


def numpy_pooling(x, kernel, bias, score_kernel, mask):
    scores = np.tanh(x @ kernel + bias) @ score_kernel[:, 0]  # (batch, time)
    scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights = weights / weights.sum(-1, keepdims=True)
    return (x * weights[..., None]).sum(1), weights


class AttentionPoolingTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            AttentionPooling,
            {"units": UNITS},
            data(),
            expected_output_shape=(BATCH, FEATURES),
            expected_num_trainable_weights=3,
            input_mask=padding([5, 2, 3]),
        )

    def test_matches_numpy_with_mask(self):
        x, mask = data(), padding([5, 2, 3])
        layer = AttentionPooling(UNITS, return_attention_scores=True)
        pooled, weights = layer(x, mask=mask)
        expected, expected_weights = numpy_pooling(
            x,
            *(
                w.numpy() if hasattr(w, "numpy") else np.asarray(w)
                for w in layer.weights
            ),
            mask,
        )
        self.assertAllClose(pooled, expected, atol=1e-6)
        self.assertAllClose(weights, expected_weights, atol=1e-6)
        assert (keras.ops.convert_to_numpy(weights)[~mask] == 0).all()

    def test_keras_mask_and_empty_sequence(self):
        ids = np.array([[3, 4, 0, 0], [0, 0, 0, 0]])
        embedded = keras.layers.Embedding(10, FEATURES, mask_zero=True)
        layer = AttentionPooling(UNITS, return_attention_scores=True)
        pooled, weights = layer(embedded(ids))
        weights = keras.ops.convert_to_numpy(weights)
        np.testing.assert_allclose(weights[0, 2:], 0)
        np.testing.assert_allclose(weights[0].sum(), 1, rtol=1e-6)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(pooled)[1], 0)

    def test_bad_input(self):
        with pytest.raises(ValueError, match="`units`"):
            AttentionPooling(0)
        with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
            AttentionPooling(2)(np.ones((2, 3), "float32"))
