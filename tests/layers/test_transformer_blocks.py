import keras
import numpy as np
import pytest

from keras_seq.layers import TransformerDecoderBlock, TransformerEncoderBlock
from keras_seq.testing import TestCase
from tests.layers.attention import reference as ref
from tests.layers.attention.test_dot_product_attention import padding

BATCH, T, S, DIM, HEADS, FFN = 2, 5, 6, 8, 2, 16


def data(seed=0):
    rng = np.random.default_rng(seed)
    target = rng.normal(size=(BATCH, T, DIM)).astype("float32")
    source = rng.normal(size=(BATCH, S, DIM)).astype("float32")
    return target, source


def randomise(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [
            (
                rng.normal(scale=0.3, size=w.shape)
                + (1.0 if "gamma" in w.path else 0.0)
            ).astype("float32")
            for w in layer.weights
        ]
    )


def np_attention(attention, query, value, mask):
    out, _ = ref.multi_head(query, value, value, attention.get_weights(), HEADS, mask)
    return out


def np_feed_forward(block, x):
    w1, b1 = block._ffn_intermediate.get_weights()
    w2, b2 = block._ffn_output.get_weights()
    return np.maximum(x @ w1 + b1, 0.0) @ w2 + b2


def np_sublayer(block, x, f, norm):
    gamma, beta = norm.get_weights()

    def ln(v):
        return ref.layer_norm(v, gamma, beta, block.layer_norm_epsilon)

    if block.norm_first:
        return x + f(ln(x))
    return ln(x + f(x))


def np_encoder(block, x, mask=None):
    full = ref.merge_masks(T, T, BATCH, mask, mask)
    x = np_sublayer(
        block,
        x.astype(np.float64),
        lambda v: np_attention(block.self_attention, v, v, full),
        block.self_attention_norm,
    )
    return np_sublayer(
        block, x, lambda v: np_feed_forward(block, v), block.feed_forward_norm
    )


def np_decoder(block, target, source, target_mask=None, source_mask=None):
    self_mask = ref.merge_masks(T, T, BATCH, target_mask, target_mask, causal=True)
    cross_mask = ref.merge_masks(T, S, BATCH, target_mask, source_mask)
    x = np_sublayer(
        block,
        target.astype(np.float64),
        lambda v: np_attention(block.self_attention, v, v, self_mask),
        block.self_attention_norm,
    )
    x = np_sublayer(
        block,
        x,
        lambda v: np_attention(block.cross_attention, v, source, cross_mask),
        block.cross_attention_norm,
    )
    return np_sublayer(
        block, x, lambda v: np_feed_forward(block, v), block.feed_forward_norm
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_matches_numpy(norm_first):
    x, _ = data()
    block = TransformerEncoderBlock(FFN, HEADS, norm_first=norm_first)
    block(x)
    randomise(block)
    mask = padding([5, 3], T)
    out = block(x, mask=mask)
    TestCase().assertAllClose(out, np_encoder(block, x, mask), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_matches_numpy(norm_first):
    target, source = data(1)
    block = TransformerDecoderBlock(FFN, HEADS, norm_first=norm_first)
    block(target, source)
    randomise(block, 2)
    target_mask, source_mask = padding([5, 4], T), padding([6, 2], S)
    out = block(
        target,
        source,
        decoder_sequence_mask=target_mask,
        encoder_sequence_mask=source_mask,
    )
    expected = np_decoder(block, target, source, target_mask, source_mask)
    TestCase().assertAllClose(out, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("cross", [True, False])
def test_cached_decoding_equals_full_causal_pass(norm_first, cross):
    target, source = data(3)
    block = TransformerDecoderBlock(FFN, HEADS, norm_first=norm_first)
    source_mask = padding([6, 3], S)
    encoder = {"encoder_sequence": source} if cross else {}
    block(target, **encoder)
    randomise(block, 4)
    if cross:
        encoder["encoder_sequence_mask"] = source_mask
    full = keras.ops.convert_to_numpy(block(target, **encoder))
    cache = block.initial_cache(BATCH, T)
    cross_cache = block.cross_attention_cache(source) if cross else None
    case = TestCase()
    for t in range(T):
        step, cache, *cross_caches = block(
            target[:, t : t + 1],
            encoder_sequence_mask=source_mask if cross else None,
            self_attention_cache=cache,
            self_attention_cache_update_index=t,
            cross_attention_cache=cross_cache,
        )
        # A decoder-only block returns (outputs, cache), as keras-hub's.
        assert len(cross_caches) == (1 if cross else 0)
        case.assertAllClose(step[:, 0], full[:, t], atol=1e-5, rtol=1e-5)
    # Two steps at a time (a prompt) give the same rows too.
    cache = block.initial_cache(BATCH, T)
    chunk, *_ = block(
        target[:, 1:3],
        encoder_sequence_mask=source_mask if cross else None,
        self_attention_cache=block(
            target[:, :1],
            encoder_sequence_mask=source_mask if cross else None,
            self_attention_cache=cache,
            self_attention_cache_update_index=0,
            cross_attention_cache=cross_cache,
        )[1],
        self_attention_cache_update_index=1,
        cross_attention_cache=cross_cache,
    )
    case.assertAllClose(chunk, full[:, 1:3], atol=1e-5, rtol=1e-5)


class TransformerBlockTest(TestCase):
    def test_encoder_layer(self):
        x, _ = data()
        self.run_layer_test(
            TransformerEncoderBlock,
            {"intermediate_dim": FFN, "num_heads": HEADS, "dropout": 0.1, "seed": 1},
            x,
            expected_output_shape=(BATCH, T, DIM),
            expected_num_trainable_weights=8 + 4 + 4,
            input_mask=padding([5, 2], T),
        )

    def test_decoder_layer(self):
        target, source = data()
        self.run_layer_test(
            TransformerDecoderBlock,
            {
                "intermediate_dim": FFN,
                "num_heads": HEADS,
                "norm_first": True,
                "score": "additive",
                "seed": 1,
            },
            (target, source),
            expected_output_shape=(BATCH, T, DIM),
            expected_num_trainable_weights=9 + 9 + 4 + 6,
            input_mask=padding([5, 2], T),
            mask_argument="decoder_sequence_mask",
        )

    def test_keras_mask_is_used(self):
        tokens = np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]])
        embedding = keras.layers.Embedding(10, DIM, mask_zero=True)
        block = TransformerEncoderBlock(FFN, HEADS)
        inputs = keras.Input((T,), dtype="int32")
        model = keras.Model(inputs, block(embedding(inputs)))
        implicit = model(tokens)
        explicit = block(embedding(tokens), mask=tokens != 0)
        self.assertAllClose(implicit, explicit, atol=1e-6)
        unmasked = block(embedding(tokens), mask=np.ones_like(tokens, bool))
        implicit, unmasked = (
            keras.ops.convert_to_numpy(t) for t in (implicit, unmasked)
        )
        self.assertFalse(np.allclose(implicit, unmasked, atol=1e-3))

    def test_bad_input(self):
        target, source = data()
        with self.assertRaisesRegex(ValueError, r"`num_heads` \(3\) must divide.*8"):
            TransformerEncoderBlock(FFN, 3)(target)
        with self.assertRaisesRegex(ValueError, r"`num_heads` \(3\) must divide"):
            TransformerDecoderBlock(FFN, 3)(target, source)
        decoder_only = TransformerDecoderBlock(FFN, HEADS)
        decoder_only(target)
        with self.assertRaisesRegex(ValueError, "without cross-attention"):
            decoder_only(target, source)
        decoder = TransformerDecoderBlock(FFN, HEADS)
        decoder(target, source)
        with self.assertRaisesRegex(ValueError, "pass `encoder_sequence`"):
            decoder(target)
        with self.assertRaisesRegex(
            ValueError, "needs `self_attention_cache_update_index`"
        ):
            decoder(
                target, source, self_attention_cache=decoder.initial_cache(BATCH, T)
            )
        with self.assertRaisesRegex(
            ValueError, r"`query_mask` must have shape \(2, 5\)"
        ):
            decoder(target, source, decoder_sequence_mask=np.ones((BATCH, T + 1), bool))
        with self.assertRaisesRegex(ValueError, "`intermediate_dim`"):
            TransformerEncoderBlock(0, HEADS)


def test_caches_before_the_first_call():
    target, source = data(5)
    block = TransformerDecoderBlock(FFN, HEADS)
    cache = keras.ops.convert_to_numpy(block.initial_cache(BATCH, T, model_dim=DIM))
    assert cache.shape == (BATCH, 2, T, HEADS, DIM // HEADS) and not cache.any()
    with pytest.raises(ValueError, match="pass `model_dim=`"):
        TransformerDecoderBlock(FFN, HEADS).initial_cache(BATCH, T)
    with pytest.raises(ValueError, match="needs a built block"):
        TransformerDecoderBlock(FFN, HEADS).cross_attention_cache(source)
    with pytest.raises(ValueError, match=r"`num_heads` \(2\) must divide"):
        block.initial_cache(BATCH, T, model_dim=7)
    # The documented order: build, then both caches, then the steps.
    block.build(target.shape, source.shape)
    with pytest.raises(ValueError, match="must be 8"):
        block.initial_cache(BATCH, T, model_dim=4)
    cross = block.cross_attention_cache(source)
    full = keras.ops.convert_to_numpy(block(target, source))
    for t in range(T):
        step, cache, cross = block(
            target[:, t : t + 1],
            self_attention_cache=cache,
            self_attention_cache_update_index=t,
            cross_attention_cache=cross,
        )
        TestCase().assertAllClose(step[:, 0], full[:, t], atol=1e-5, rtol=1e-5)
