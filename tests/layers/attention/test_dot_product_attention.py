import keras
import numpy as np
import pytest

from keras_seq.layers import DotProductAttention
from keras_seq.testing import TestCase
from tests.layers.attention import reference as ref

BATCH, T_Q, T_K, DIM, VALUE_DIM = 3, 4, 6, 8, 5


def data(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(BATCH, T_Q, DIM)).astype("float32")
    key = rng.normal(size=(BATCH, T_K, DIM)).astype("float32")
    value = rng.normal(size=(BATCH, T_K, VALUE_DIM)).astype("float32")
    return query, key, value


def padding(lengths, steps):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


class DotProductAttentionTest(TestCase):
    def test_layer(self):
        query, _, _ = data()
        self.run_layer_test(
            DotProductAttention,
            {"dropout": 0.1, "seed": 1},
            (query, query[:, :3]),
            expected_output_shape=(BATCH, T_Q, DIM),
            expected_num_trainable_weights=0,
            input_mask=padding([4, 2, 1], T_Q),
            mask_argument="query_mask",
            run_training_check=False,  # no weights to change
        )

    def test_matches_numpy(self):
        query, key, value = data()
        query_mask = padding([4, 3, 2], T_Q)
        value_mask = padding([6, 2, 4], T_K)
        for scale in (True, False, 0.5):
            for causal in (False, True):
                layer = DotProductAttention(scale=scale)
                out, weights = layer(
                    query,
                    value,
                    key,
                    query_mask=query_mask,
                    value_mask=value_mask,
                    use_causal_mask=causal,
                    return_attention_scores=True,
                )
                mask = ref.merge_masks(
                    T_Q, T_K, BATCH, query_mask, value_mask, causal=causal
                )
                expected, expected_weights = ref.dot_product(
                    query, key, value, mask, scale=scale
                )
                self.assertAllClose(weights, expected_weights, atol=1e-6, rtol=1e-5)
                self.assertAllClose(out, expected, atol=1e-5, rtol=1e-5)

    @pytest.mark.skipif(
        tuple(int(v) for v in keras.version().split(".")[:2]) < (3, 12),
        reason="keras.layers.Attention before 3.12 mis-broadcasts a (batch, T_v) "
        "value mask",
    )
    def test_matches_keras_attention(self):
        # keras.layers.Attention is unscaled dot-product attention.
        query, key, value = data(1)
        value_mask = padding([6, 3, 5], T_K)
        ours = DotProductAttention(scale=False)(
            query, value, key, value_mask=value_mask
        )
        theirs = keras.layers.Attention()([query, value, key], mask=[None, value_mask])
        self.assertAllClose(ours, theirs, atol=1e-5, rtol=1e-5)

    def test_single_query(self):
        query, key, value = data(2)
        value_mask = padding([6, 1, 3], T_K)
        layer = DotProductAttention()
        out, weights = layer(
            query[:, 0], value, key, value_mask=value_mask, return_attention_scores=True
        )
        full, full_weights = layer(
            query, value, key, value_mask=value_mask, return_attention_scores=True
        )
        self.assertEqual(tuple(out.shape), (BATCH, VALUE_DIM))
        self.assertAllClose(out, keras.ops.convert_to_numpy(full)[:, 0], atol=1e-6)
        self.assertAllClose(
            weights, keras.ops.convert_to_numpy(full_weights)[:, 0], atol=1e-6
        )

    def test_padded_keys_get_exactly_zero(self):
        query, key, value = data(3)
        value_mask = padding([6, 2, 4], T_K)
        _, weights = DotProductAttention()(
            query * 100, value, key, value_mask=value_mask, return_attention_scores=True
        )
        weights = keras.ops.convert_to_numpy(weights)
        self.assertTrue(
            np.all(weights[~np.broadcast_to(value_mask[:, None], weights.shape)] == 0)
        )
        self.assertAllClose(weights.sum(-1), np.ones((BATCH, T_Q)), atol=1e-6)

    def test_fully_masked_rows_are_finite_zeros(self):
        query, key, value = data(4)
        value_mask = padding([6, 0, 3], T_K)  # example 1 has no key at all
        query_mask = padding([4, 4, 1], T_Q)
        layer = DotProductAttention()
        out, weights = layer(
            query,
            value,
            key,
            query_mask=query_mask,
            value_mask=value_mask,
            return_attention_scores=True,
        )
        out, weights = (keras.ops.convert_to_numpy(t) for t in (out, weights))
        self.assertTrue(np.all(np.isfinite(out)) and np.all(np.isfinite(weights)))
        self.assertTrue(np.all(out[1] == 0) and np.all(weights[1] == 0))
        self.assertTrue(np.all(out[2, 1:] == 0))
        _, grad, _ = self.layer_gradients(
            layer, query, value=value, key=key, value_mask=value_mask
        )
        self.assertTrue(np.all(np.isfinite(grad)))
        self.assertTrue(np.all(grad[1] == 0))

    def test_bad_input(self):
        query, key, value = data()
        layer = DotProductAttention()
        with self.assertRaisesRegex(
            ValueError, "of `value` and `key` but the last must be equal"
        ):
            layer(query, value, key[:, :3])
        with self.assertRaisesRegex(ValueError, "same last dimension"):
            layer(query, value, key[..., :3])
        with self.assertRaisesRegex(
            ValueError, r"`value_mask` must have shape \(3, 6\)"
        ):
            layer(query, value, key, value_mask=np.ones((BATCH, T_K + 1), bool))
        with self.assertRaisesRegex(ValueError, r"`query` must have rank 2 or 3"):
            layer(query[None], value)
        with self.assertRaisesRegex(ValueError, "floating point"):
            layer(query.astype("int32"), value)
        with self.assertRaisesRegex(ValueError, "`scale`"):
            DotProductAttention(scale=-1.0)


@pytest.mark.parametrize("rate", [1.5, -0.1])
def test_bad_dropout(rate):
    with pytest.raises(ValueError, match="`dropout`"):
        DotProductAttention(dropout=rate)
