import inspect

import keras
import numpy as np
import pytest

from keras_seq.layers import MultiHeadAttention
from keras_seq.testing import TestCase
from tests.layers.attention import reference as ref
from tests.layers.attention.test_dot_product_attention import padding

BATCH, T_Q, T_K, HEADS, KEY_DIM = 3, 5, 6, 2, 4


def data(seed=0, dim=8):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(BATCH, T_Q, dim)).astype("float32")
    value = rng.normal(size=(BATCH, T_K, 6)).astype("float32")
    key = rng.normal(size=(BATCH, T_K, 7)).astype("float32")
    return query, value, key


CASES = {
    "none": {},
    "value_padding": {"value_mask": padding([6, 3, 1], T_K)},
    "causal": {"use_causal_mask": True},
    "padding_and_causal": {
        "value_mask": padding([6, 4, 2], T_K),
        "use_causal_mask": True,
    },
    # Keras 3.15 takes the query mask only from a Keras mask on the tensor;
    # an attention_mask carries query padding to both layers.
    "query_padding": {
        "attention_mask": padding([5, 2, 0], T_Q)[:, :, None]
        & np.ones((1, 1, T_K), bool)
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("self_attention", [False, True])
def test_dot_matches_keras(case, self_attention):
    query, value, key = data()
    if self_attention:  # one tensor of length T_K: the fused projection path
        query = value = key = np.concatenate([query, query[:, :1]], axis=1)
    kwargs = dict(CASES[case])
    if self_attention and "attention_mask" in kwargs:
        kwargs["attention_mask"] = padding([6, 2, 0], 6)[:, :, None] & np.ones(
            (1, 1, 6), bool
        )
    # Keras's MultiHeadAttention fails on JAX when value_dim != key_dim (its
    # fused dot_product_attention path): compare value_dim=3 on TensorFlow.
    value_dim = KEY_DIM if keras.backend.backend() == "jax" else 3
    ours = MultiHeadAttention(HEADS, KEY_DIM, value_dim=value_dim)
    theirs = keras.layers.MultiHeadAttention(HEADS, KEY_DIM, value_dim=value_dim)
    args = (query, value) if self_attention else (query, value, key)
    ours(*args)
    theirs(*args)
    ref.randomise(ours, 1, scale=0.4)
    theirs.set_weights(ours.get_weights())
    out, scores = ours(*args, return_attention_scores=True, **kwargs)
    expected, expected_scores = theirs(*args, return_attention_scores=True, **kwargs)
    case_ = TestCase()
    case_.assertAllClose(scores, expected_scores, atol=1e-5, rtol=1e-5)
    case_.assertAllClose(out, expected, atol=1e-5, rtol=1e-5)


class MultiHeadAttentionTest(TestCase):
    def test_layer(self):
        query, value, _ = data()
        for score in ("dot", "additive"):
            self.run_layer_test(
                MultiHeadAttention,
                {
                    "num_heads": HEADS,
                    "key_dim": KEY_DIM,
                    "score": score,
                    "dropout": 0.1,
                    "seed": 2,
                },
                (query, value),
                expected_output_shape=(BATCH, T_Q, 8),
                expected_num_trainable_weights=8 + (score == "additive"),
                input_mask=padding([5, 3, 1], T_Q),
                mask_argument="query_mask",
            )

    def test_weight_names_and_output_shape(self):
        query, value, key = data()
        layer = MultiHeadAttention(HEADS, KEY_DIM, value_dim=3, output_shape=(10,))
        self.assertEqual(tuple(layer(query, value, key).shape), (BATCH, T_Q, 10))
        self.assertEqual(
            [(w.path.split("/")[-1], tuple(w.shape)) for w in layer.weights],
            [
                ("query_kernel", (8, HEADS, KEY_DIM)),
                ("query_bias", (HEADS, KEY_DIM)),
                ("key_kernel", (7, HEADS, KEY_DIM)),
                ("key_bias", (HEADS, KEY_DIM)),
                ("value_kernel", (6, HEADS, 3)),
                ("value_bias", (HEADS, 3)),
                ("output_kernel", (HEADS, 3, 10)),
                ("output_bias", (10,)),
            ],
        )

    def test_additive_matches_numpy(self):
        query, value, key = data(3)
        query_mask = padding([5, 2, 4], T_Q)
        value_mask = padding([6, 1, 3], T_K)
        layer = MultiHeadAttention(HEADS, KEY_DIM, value_dim=3, score="additive")
        layer(query, value, key)
        ref.randomise(layer, 4, scale=0.4)
        for causal in (False, True):
            out, scores = layer(
                query,
                value,
                key,
                query_mask=query_mask,
                value_mask=value_mask,
                use_causal_mask=causal,
                return_attention_scores=True,
            )
            mask = ref.merge_masks(T_Q, T_K, BATCH, query_mask, value_mask, causal)
            expected, expected_scores = ref.multi_head(
                query, value, key, layer.get_weights(), HEADS, mask, score="additive"
            )
            self.assertAllClose(scores, expected_scores, atol=1e-6, rtol=1e-5)
            self.assertAllClose(out, expected, atol=1e-5, rtol=1e-5)

    def test_dot_matches_numpy_without_bias(self):
        query, value, key = data(5)
        layer = MultiHeadAttention(HEADS, KEY_DIM, use_bias=False)
        layer(query, value, key)
        ref.randomise(layer, 6, scale=0.4)
        weights = layer.get_weights()
        zeros = [np.zeros((HEADS, KEY_DIM))] * 3
        full = [
            weights[0],
            zeros[0],
            weights[1],
            zeros[1],
            weights[2],
            zeros[2],
            weights[3],
            np.zeros(8),
        ]
        value_mask = padding([6, 5, 2], T_K)
        out = layer(query, value, key, value_mask=value_mask)
        mask = ref.merge_masks(T_Q, T_K, BATCH, value_mask=value_mask)
        expected, _ = ref.multi_head(query, value, key, full, HEADS, mask)
        self.assertAllClose(out, expected, atol=1e-5, rtol=1e-5)

    def test_fully_masked_rows(self):
        query, value, key = data(7)
        layer = MultiHeadAttention(HEADS, KEY_DIM, score="additive")
        value_mask = padding([6, 0, 2], T_K)
        out, scores = layer(
            query, value, key, value_mask=value_mask, return_attention_scores=True
        )
        scores = keras.ops.convert_to_numpy(scores)
        self.assertTrue(np.all(np.isfinite(keras.ops.convert_to_numpy(out))))
        self.assertTrue(np.all(scores[1] == 0))
        self.assertTrue(np.all(scores[2][..., 2:] == 0))
        _, grad, weight_grads = self.layer_gradients(
            layer, query, value=value, key=key, value_mask=value_mask
        )
        self.assertTrue(all(np.all(np.isfinite(g)) for g in [grad, *weight_grads]))

    def test_cache_matches_full_causal_pass(self):
        query = data(8)[0]
        layer = MultiHeadAttention(HEADS, KEY_DIM)
        full = keras.ops.convert_to_numpy(layer(query, query, use_causal_mask=True))
        cache = keras.ops.zeros((BATCH, 2, T_Q, HEADS, KEY_DIM))
        for t in range(T_Q):
            visible = np.broadcast_to(np.arange(T_Q)[None, None] <= t, (BATCH, 1, T_Q))
            step, cache = layer(
                query[:, t : t + 1],
                query[:, t : t + 1],
                attention_mask=visible,
                cache=cache,
                cache_update_index=t,
            )
            self.assertAllClose(step[:, 0], full[:, t], atol=1e-5, rtol=1e-5)

    def test_bad_input(self):
        query, value, key = data()
        layer = MultiHeadAttention(HEADS, KEY_DIM)
        layer(query, value, key)
        with self.assertRaisesRegex(
            ValueError, "of `value` and `key` but the last must be equal"
        ):
            layer(query, value, key[:, :2])
        with self.assertRaisesRegex(ValueError, "`value` must have last dimension 6"):
            layer(query, value[..., :2], key)
        with self.assertRaisesRegex(
            ValueError, r"`value_mask` must have shape \(3, 6\)"
        ):
            layer(query, value, key, value_mask=np.ones((BATCH, T_Q), bool))
        with self.assertRaisesRegex(ValueError, r"`attention_mask` must have shape"):
            layer(query, value, key, attention_mask=np.ones((BATCH, T_K, T_Q), bool))
        with self.assertRaisesRegex(ValueError, "`cache` must have shape"):
            layer(
                query,
                query,
                cache=np.zeros((BATCH, 2, 4, 3, KEY_DIM), "float32"),
                cache_update_index=0,
            )
        with self.assertRaisesRegex(ValueError, "`num_heads`.*positive integer"):
            MultiHeadAttention(0, KEY_DIM)
        with self.assertRaisesRegex(ValueError, "`score`.*'additive'"):
            MultiHeadAttention(HEADS, KEY_DIM, score="general")
        with self.assertRaisesRegex(ValueError, "`output_shape`"):
            MultiHeadAttention(HEADS, KEY_DIM, output_shape=(2, 0))
        with self.assertRaisesRegex(ValueError, "`attention_axes`.*time axis"):
            MultiHeadAttention(HEADS, KEY_DIM, attention_axes=(1, 2))
        with self.assertRaisesRegex(ValueError, "`flash_attention`.*no"):
            MultiHeadAttention(HEADS, KEY_DIM, flash_attention=True)
        with self.assertRaisesRegex(ValueError, "`sliding_window`"):
            MultiHeadAttention(HEADS, KEY_DIM, sliding_window=0)
        with self.assertRaisesRegex(ValueError, "`query` must have rank 3"):
            MultiHeadAttention(HEADS, KEY_DIM).build((2, 3, 4, 5), (2, 3, 5))
        with self.assertRaisesRegex(
            ValueError, r"broadcasts to it or to \(batch, heads"
        ):
            layer(query, value, key, attention_mask=np.ones((BATCH, 3, T_Q, T_K), bool))
        with self.assertRaisesRegex(ValueError, "needs `value_dim == key_dim`"):
            MultiHeadAttention(HEADS, KEY_DIM, value_dim=3)(
                query,
                query,
                cache=np.zeros((BATCH, 2, T_Q, HEADS, KEY_DIM), "float32"),
                cache_update_index=0,
            )


KERAS_OPTIONS = {
    "plain": {},
    "output_shape": {"output_shape": (2, 3)},
    "use_gate": {"use_gate": True},
    "sliding_window": {"sliding_window": 2},
}


@pytest.mark.parametrize("options", sorted(KERAS_OPTIONS))
@pytest.mark.parametrize(
    "mask_shape",
    [None, (T_Q, T_K), (1, T_Q, T_K), (BATCH, T_Q, T_K)]
    + [(BATCH, HEADS, T_Q, T_K), (BATCH, 1, T_Q, T_K), (1, HEADS, 1, T_K)],
)
@pytest.mark.parametrize("causal", [False, True])
def test_keras_arguments_and_mask_shapes_match_keras(options, mask_shape, causal):
    """Keras's options and every attention_mask shape it broadcasts, same numbers.

    Rows where some head sees no key differ on purpose (Keras averages all
    values there, keras_seq gives that head a zero context:
    docs/compatibility.md) and are left out of the comparison.
    """
    query, value, key = data(2)
    kwargs = KERAS_OPTIONS[options]
    keras_arguments = inspect.signature(keras.layers.MultiHeadAttention).parameters
    if not set(kwargs) <= set(keras_arguments):
        pytest.skip(f"keras {keras.version()}'s MultiHeadAttention has no {options}")
    ours = MultiHeadAttention(HEADS, KEY_DIM, **kwargs)
    theirs = keras.layers.MultiHeadAttention(HEADS, KEY_DIM, **kwargs)
    ours(query, value, key)
    theirs(query, value, key)
    assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
    ref.randomise(ours, 3, scale=0.4)
    theirs.set_weights(ours.get_weights())
    rng = np.random.default_rng(4)
    call = {"use_causal_mask": causal}
    visible = np.ones((BATCH, HEADS, T_Q, T_K), bool)
    if mask_shape is not None:
        call["attention_mask"] = rng.random(mask_shape) > 0.3
        mask = call["attention_mask"]
        if mask.ndim < 4:
            mask = mask.reshape((1,) * (3 - mask.ndim) + mask.shape)[:, None]
        visible = visible & mask
    if causal:
        visible = visible & np.tri(T_Q, T_K, dtype=bool)
    if "sliding_window" in kwargs:
        rows, cols = np.arange(T_Q)[:, None], np.arange(T_K)[None]
        visible = visible & (np.abs(rows - cols) < kwargs["sliding_window"])
    kept = visible.any(-1).all(1)  # (B, T_q): every head sees some key
    assert kept.any()
    out = keras.ops.convert_to_numpy(ours(query, value, key, **call))
    expected = keras.ops.convert_to_numpy(theirs(query, value, key, **call))
    assert (
        out.shape == expected.shape == (BATCH, T_Q, *kwargs.get("output_shape", (8,)))
    )
    TestCase().assertAllClose(out[kept], expected[kept], atol=2e-5, rtol=2e-5)


def test_keras_config_loads_and_regularizers_apply():
    query, value, key = data(5)
    theirs = keras.layers.MultiHeadAttention(
        HEADS,
        KEY_DIM,
        kernel_regularizer="l2",
        bias_regularizer="l1",
        kernel_constraint="non_neg",
        bias_constraint="unit_norm",
        attention_axes=(1,),
        output_shape=(4,),
    )
    ours = MultiHeadAttention.from_config(theirs.get_config())
    ours(query, value, key)
    theirs(query, value, key)
    ours.set_weights(theirs.get_weights())
    # One regularisation term per kernel and bias, as Keras's sublayers.
    assert len(ours.losses) == len(theirs.losses) == 8
    TestCase().assertAllClose(
        sum(ours.losses), sum(theirs.losses), atol=1e-4, rtol=1e-5
    )
    assert all(
        type(w.constraint).__name__ in ("NonNeg", "UnitNorm") for w in ours.weights
    )
