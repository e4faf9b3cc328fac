import keras
import numpy as np
import pytest

from keras_seq.layers import LuongAttention
from keras_seq.testing import TestCase
from tests.layers.attention import reference as ref
from tests.layers.attention.test_dot_product_attention import BATCH, T_K, T_Q, padding

UNITS = 7


def data(seed=0, key_dim=6):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(BATCH, T_Q, 5)).astype("float32")
    key = rng.normal(size=(BATCH, T_K, key_dim)).astype("float32")
    value = rng.normal(size=(BATCH, T_K, 4)).astype("float32")
    return query, key, value


class LuongAttentionTest(TestCase):
    def test_layer(self):
        query, _, value = data()
        for kwargs, weights in (
            ({}, 1),
            ({"score_mode": "concat", "units": UNITS, "use_scale": True}, 4),
        ):
            self.run_layer_test(
                LuongAttention,
                {**kwargs, "dropout": 0.1, "seed": 3},
                (query, value),
                expected_output_shape=(BATCH, T_Q, 4),
                expected_num_trainable_weights=weights,
                input_mask=padding([4, 2, 3], T_Q),
                mask_argument="query_mask",
            )

    def test_weights(self):
        query, key, value = data()
        names = {
            ("general", None, False): ["kernel"],
            ("general", None, True): ["kernel", "scale"],
            ("concat", UNITS, False): ["query_kernel", "key_kernel", "score_kernel"],
        }
        for (mode, units, scale), expected in names.items():
            layer = LuongAttention(mode, units=units, use_scale=scale)
            layer(query, value, key)
            self.assertEqual([w.path.split("/")[-1] for w in layer.weights], expected)
        layer = LuongAttention()
        layer(query, value, key)
        self.assertEqual(tuple(layer.kernel.shape), (6, 5))  # (d_k, d_q), tfa's

    def test_matches_numpy(self):
        query_mask = padding([4, 1, 3], T_Q)
        value_mask = padding([6, 3, 2], T_K)
        mask = ref.merge_masks(T_Q, T_K, BATCH, query_mask, value_mask)
        for mode, units, key_dim in (
            ("dot", None, 5),
            ("general", None, 6),
            ("concat", UNITS, 6),
        ):
            for use_scale in (False, True):
                query, key, value = data(1, key_dim)
                layer = LuongAttention(mode, units=units, use_scale=use_scale)
                layer(query, value, key)
                if layer.weights:
                    ref.randomise(layer, 2, scale=0.5)
                w = layer.get_weights()
                scale = float(w.pop()) if use_scale else None
                out, weights = layer(
                    query,
                    value,
                    key,
                    query_mask=query_mask,
                    value_mask=value_mask,
                    return_attention_scores=True,
                )
                expected, expected_weights = ref.luong(
                    query, key, value, mode, w, mask, scale
                )
                self.assertAllClose(weights, expected_weights, atol=1e-6, rtol=1e-5)
                self.assertAllClose(out, expected, atol=1e-5, rtol=1e-5)
                # Padded keys weigh exactly 0.
                weights = keras.ops.convert_to_numpy(weights)
                self.assertTrue(np.all(weights[~mask] == 0.0))

    def test_decoder_state_query(self):
        query, key, value = data(2)
        layer = LuongAttention()
        full = layer(query, value, key, return_attention_scores=True)
        for t in range(T_Q):
            step = layer(query[:, t], value, key, return_attention_scores=True)
            for a, b in zip(step, full):
                self.assertAllClose(a, keras.ops.convert_to_numpy(b)[:, t], atol=1e-6)

    def test_serialises(self):
        query, key, value = data()
        layer = LuongAttention("concat", units=UNITS, use_scale=True, name="luong")
        layer(query, value, key)
        copy = LuongAttention.from_config(layer.get_config())
        copy(query, value, key)
        copy.set_weights(layer.get_weights())
        self.assertAllClose(copy(query, value, key), layer(query, value, key))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"score_mode": "bilinear"},
            "expected one of \\['dot', 'general', 'concat'\\]",
        ),
        ({"score_mode": "concat"}, "`units` is required with score_mode='concat'"),
        ({"units": 4}, "`units` applies to score_mode='concat' only"),
        ({"score_mode": "concat", "units": 0}, "units"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LuongAttention(**kwargs)


def test_bad_shapes():
    query, key, value = data()
    with pytest.raises(ValueError, match="score_mode='dot' needs query and key of one"):
        LuongAttention("dot")(query, value, key)
    layer = LuongAttention()
    layer(query, value, key)
    with pytest.raises(ValueError, match="`query` must have last dimension 5"):
        layer(query[..., :3], value, key)
