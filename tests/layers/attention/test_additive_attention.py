import keras
import numpy as np

from keras_seq.layers import AdditiveAttention
from keras_seq.testing import TestCase
from tests.layers.attention import reference as ref
from tests.layers.attention.test_dot_product_attention import BATCH, T_K, T_Q, padding

UNITS = 7


def data(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(BATCH, T_Q, 5)).astype("float32")
    key = rng.normal(size=(BATCH, T_K, 6)).astype("float32")
    value = rng.normal(size=(BATCH, T_K, 4)).astype("float32")
    return query, key, value


class AdditiveAttentionTest(TestCase):
    def test_layer(self):
        query, _, value = data()
        self.run_layer_test(
            AdditiveAttention,
            {"units": UNITS, "dropout": 0.1, "seed": 3},
            (query, value),
            expected_output_shape=(BATCH, T_Q, 4),
            expected_num_trainable_weights=4,
            input_mask=padding([4, 2, 3], T_Q),
            mask_argument="query_mask",
        )

    def test_weights(self):
        query, key, value = data()
        layer = AdditiveAttention(UNITS, use_bias=False)
        layer(query, value, key)
        self.assertEqual(
            [w.path.split("/")[-1] for w in layer.weights],
            ["query_kernel", "key_kernel", "score_kernel"],
        )

    def test_matches_numpy(self):
        query, key, value = data()
        query_mask = padding([4, 1, 3], T_Q)
        value_mask = padding([6, 3, 2], T_K)
        for use_bias in (True, False):
            layer = AdditiveAttention(UNITS, use_bias=use_bias)
            layer(query, value, key)
            ref.randomise(layer, 1, scale=0.5)
            out, weights = layer(
                query,
                value,
                key,
                query_mask=query_mask,
                value_mask=value_mask,
                return_attention_scores=True,
            )
            w = [np.asarray(v, np.float64) for v in layer.get_weights()]
            bias = w[2] if use_bias else None
            mask = ref.merge_masks(T_Q, T_K, BATCH, query_mask, value_mask)
            expected, expected_weights = ref.additive(
                query, key, value, w[0], w[1], bias, w[-1], mask
            )
            self.assertAllClose(weights, expected_weights, atol=1e-6, rtol=1e-5)
            self.assertAllClose(out, expected, atol=1e-5, rtol=1e-5)

    def test_normalized_matches_numpy(self):
        # tfa's BahdanauAttention(normalize=True): g * v / ||v|| as the score vector.
        query, key, value = data(4)
        value_mask = padding([6, 3, 2], T_K)
        layer = AdditiveAttention(UNITS, normalize=True)
        layer(query, value, key)
        self.assertEqual(
            [w.path.split("/")[-1] for w in layer.weights],
            ["query_kernel", "key_kernel", "bias", "score_kernel", "score_scale"],
        )
        self.assertAllClose(layer.score_scale, np.sqrt(1 / UNITS))
        ref.randomise(layer, 5, scale=0.5)
        w = [np.asarray(v, np.float64) for v in layer.get_weights()]
        out, weights = layer(
            query, value, key, value_mask=value_mask, return_attention_scores=True
        )
        normed = w[4] * w[3] / np.linalg.norm(w[3])
        mask = ref.merge_masks(T_Q, T_K, BATCH, None, value_mask)
        expected, expected_weights = ref.additive(
            query, key, value, w[0], w[1], w[2], normed, mask
        )
        self.assertAllClose(weights, expected_weights, atol=1e-6, rtol=1e-5)
        self.assertAllClose(out, expected, atol=1e-5, rtol=1e-5)
        copy = AdditiveAttention.from_config(layer.get_config())
        copy(query, value, key)
        copy.set_weights(layer.get_weights())
        self.assertAllClose(copy(query, value, key), layer(query, value, key))

    def test_decoder_state_query(self):
        # The seq2seq use: one decoder state attends over encoder outputs.
        query, _, value = data(2)
        layer = AdditiveAttention(UNITS)
        layer(query[:, 0], value)
        ref.randomise(layer, 1, scale=0.5)
        value_mask = padding([6, 2, 5], T_K)
        context, weights = layer(
            query[:, 0], value, value_mask=value_mask, return_attention_scores=True
        )
        w = [np.asarray(v, np.float64) for v in layer.get_weights()]
        mask = ref.merge_masks(1, T_K, BATCH, value_mask=value_mask)
        expected, expected_weights = ref.additive(
            query[:, :1], value, value, w[0], w[1], w[2], w[3], mask
        )
        self.assertEqual(tuple(context.shape), (BATCH, 4))
        self.assertAllClose(context, expected[:, 0], atol=1e-5, rtol=1e-5)
        self.assertAllClose(weights, expected_weights[:, 0], atol=1e-6, rtol=1e-5)
        weights = keras.ops.convert_to_numpy(weights)
        self.assertTrue(np.all(weights[~value_mask] == 0))

    def test_gradients_match_numpy(self):
        query, key, value = data(3)
        layer = AdditiveAttention(UNITS)
        layer(query, value, key)
        ref.randomise(layer, 1, scale=0.5)
        value_mask = padding([6, 0, 4], T_K)
        out, grad, _ = self.layer_gradients(
            layer, query, value=value, key=key, value_mask=value_mask
        )
        w = [np.asarray(v, np.float64) for v in layer.get_weights()]
        mask = ref.merge_masks(T_Q, T_K, BATCH, value_mask=value_mask)

        def loss(q):
            o, _ = ref.additive(q, key, value, w[0], w[1], w[2], w[3], mask)
            return np.sin(3.0 * o).sum()

        numeric = np.zeros_like(query, np.float64)
        eps = 1e-5
        q64 = query.astype(np.float64)
        for index in np.ndindex(query.shape):
            up, down = q64.copy(), q64.copy()
            up[index] += eps
            down[index] -= eps
            numeric[index] = (loss(up) - loss(down)) / (2 * eps)
        self.assertTrue(np.all(np.isfinite(out)))
        self.assertAllClose(grad, numeric, atol=1e-4, rtol=1e-3)

    def test_bad_input(self):
        query, key, value = data()
        layer = AdditiveAttention(UNITS)
        layer(query, value, key)
        with self.assertRaisesRegex(
            ValueError, "of `value` and `key` but the last must be equal"
        ):
            layer(query, value, key[:, :2])
        with self.assertRaisesRegex(ValueError, "`query` must have last dimension 5"):
            layer(query[..., :3], value, key)
        with self.assertRaisesRegex(
            ValueError, r"`query_mask` must have shape \(3, 4\)"
        ):
            layer(query, value, key, query_mask=np.ones((BATCH, 2), bool))
        with self.assertRaisesRegex(ValueError, "positive integer, got 0"):
            AdditiveAttention(0)


def test_functional_model_returns_scores():
    """Symbolic calls know the shapes of the weights and of the caches."""
    from keras_seq.layers import MultiHeadAttention, TransformerDecoderBlock

    query, _, value = data(4)
    layer = AdditiveAttention(UNITS)
    q, v = keras.Input((T_Q, 5)), keras.Input((T_K, 4))
    model = keras.Model([q, v], layer(q, v, return_attention_scores=True))
    context, weights = model([query, value])
    expected = layer(query, value, return_attention_scores=True)
    TestCase().assertAllClose(context, expected[0], atol=1e-6)
    TestCase().assertAllClose(weights, expected[1], atol=1e-6)
    mha = MultiHeadAttention(2, 3)
    outputs = mha(q, v, return_attention_scores=True)
    assert [tuple(t.shape) for t in outputs] == [(None, T_Q, 5), (None, 2, T_Q, T_K)]
    block = TransformerDecoderBlock(8, 1)
    x = keras.Input((T_Q, 4))
    outputs = block(x, v, return_attention_scores=True)
    assert [tuple(t.shape) for t in outputs] == [(None, T_Q, 4), (None, 1, T_Q, T_K)]
