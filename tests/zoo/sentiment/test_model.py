"""Each position's n-grams: `TokenNgrams` against Python and against
`TextVectorization(ngrams=...)`, `NgramEmbedding` against NumPy."""

import dataclasses

import keras
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from keras_seq.testing import TestCase
from zoo.sentiment.configs import EN, ZH
from zoo.sentiment.model import (
    NgramEmbedding,
    TokenNgrams,
    build_attention_model,
    build_classifier,
    build_vectorizer,
    combine,
)

TEXTS = ["质量太差，不推荐", "", "好", "好用好用", "☃ x"]
WORDS = ["a gorgeous witty movie", "", "dull", "not bad  at all", "x y"]


def reference(texts, split, ngrams):
    """Each token, then the `2..ngrams`-grams it starts ("" past the end)."""
    rows = []
    for text in texts:
        tokens = list(text) if split == "character" else text.split()
        row = []
        for i, token in enumerate(tokens):
            row.append(token)
            for n in range(2, ngrams + 1):
                gram = tokens[i : i + n]
                row.append(" ".join(gram) if len(gram) == n else "")
        rows.append(row)
    return rows


@pytest.mark.parametrize("ngrams", [1, 2, 3])
@pytest.mark.parametrize(
    ("split", "texts"), [("character", TEXTS), ("whitespace", WORDS)]
)
def test_token_ngrams_equal_python(split, texts, ngrams):
    got = TokenNgrams(split, ngrams)(tf.constant(texts)).to_list()
    got = [[token.decode() for token in row] for row in got]
    assert got == reference(texts, split, ngrams)


@pytest.mark.parametrize("config", [ZH, EN], ids=["zh", "en"])
def test_ids_are_keras_ngram_ids_moved_to_their_positions(config):
    """Keras's `TextVectorization(ngrams=2)` writes the tokens, then the
    bigrams; ours puts bigram `t` beside token `t` (0 after the last token)."""
    texts = TEXTS if config.split == "character" else WORDS
    config = dataclasses.replace(config, max_length=6)  # the 8-token text is cut
    vectorizer = build_vectorizer(config, texts)
    keras_ids = keras.layers.TextVectorization(
        standardize=config.standardize,
        split=config.split,
        ngrams=2,
        vocabulary=vectorizer.get_vocabulary()[2:],
    )
    ours = vectorizer(tf.constant(texts)).numpy()
    assert ours.shape == (len(texts), 6 * 2)
    ours = ours.reshape(len(texts), 6, 2)  # (batch, time, token / bigram)
    for row, text in zip(ours, texts):
        theirs = keras_ids(tf.constant([text])).numpy()[0]
        length = (len(theirs) + 1) // 2  # L tokens, L - 1 bigrams
        kept = min(length, 6)
        np.testing.assert_array_equal(row[:kept, 0], theirs[:kept])
        bigrams = theirs[length:][:kept]
        np.testing.assert_array_equal(row[: len(bigrams), 1], bigrams)
        assert (row[len(bigrams) :, 1] == 0).all()
        assert (row[kept:, 0] == 0).all()
    assert (ours[..., 0] > 1).sum() > 10  # the vocabulary was used


def test_token_ngrams_config_and_errors():
    split = TokenNgrams("whitespace", 3)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(split)
    )
    assert (restored.split, restored.ngrams) == ("whitespace", 3)
    with pytest.raises(ValueError, match="`split`.*'character'.*got 'word'"):
        TokenNgrams("word")
    with pytest.raises(ValueError, match="`ngrams`.*positive integer, got 0"):
        TokenNgrams(ngrams=0)


class NgramEmbeddingTest(TestCase):
    def test_layer(self):
        ids = np.array([[3, 5, 4, 0, 0, 0], [2, 7, 9, 1, 6, 0]], "int64")
        self.run_layer_test(
            NgramEmbedding,
            {"input_dim": 10, "output_dim": 4, "ngrams": 2},
            ids,
            expected_output_shape=(2, 3, 4),
            expected_num_trainable_weights=1,
        )

    def test_sums_each_positions_vectors_and_masks_padding(self):
        ids = np.array([[3, 5, 4, 0, 0, 0], [2, 7, 9, 1, 6, 0]], "int64")
        layer = NgramEmbedding(10, 4, ngrams=2)
        out = keras.ops.convert_to_numpy(layer(ids))
        table = keras.ops.convert_to_numpy(layer.embedding.embeddings)
        expected = table[ids.reshape(2, 3, 2)].sum(axis=2)  # (batch, time, dim)
        np.testing.assert_allclose(out, expected, rtol=1e-6)
        mask = keras.ops.convert_to_numpy(layer.compute_mask(ids))
        np.testing.assert_array_equal(mask, [[1, 1, 0], [1, 1, 1]])

    def test_errors(self):
        with pytest.raises(ValueError, match="`output_dim`.*positive integer"):
            NgramEmbedding(10, 0)
        with pytest.raises(ValueError, match=r"rank 2 with shape \(batch, time"):
            NgramEmbedding(10, 4)(np.zeros((2, 3, 2), "int64"))
        with pytest.raises(ValueError, match="got 5 ids, not a multiple of 2"):
            NgramEmbedding(10, 4)(np.zeros((2, 5), "int64"))


def test_classifier_ignores_padding_positions():
    """A review gets the same probabilities alone and padded in a longer batch."""
    config = dataclasses.replace(ZH, embedding_dim=8, units=8, attention_units=8)
    vectorizer = build_vectorizer(config, TEXTS)
    classifier = build_classifier(config, vectorizer.vocabulary_size())
    ids = vectorizer(tf.constant(TEXTS)).numpy()
    short = ids[:, : 8 * 2]  # the longest text has 8 characters
    np.testing.assert_allclose(classifier(ids), classifier(short), rtol=1e-5, atol=1e-6)


def small(members):
    return dataclasses.replace(
        ZH, embedding_dim=8, units=8, attention_units=8, members=members
    )


def test_members_average_their_own_networks():
    keras.utils.set_random_seed(0)
    classifier = build_classifier(small(3), 40, num_classes=3)
    ids = np.random.default_rng(0).integers(0, 40, (4, 12))
    each = [
        keras.Model(
            classifier.input, classifier.get_layer(name).output
        ).predict_on_batch(ids)
        for name in ("probabilities", "probabilities_1", "probabilities_2")
    ]
    # Three networks with their own weights: three answers, averaged.
    assert not np.allclose(each[0], each[1], atol=1e-4)
    np.testing.assert_allclose(classifier(ids), np.mean(each, 0), rtol=1e-5)
    # The attention model: the same average, weights averaged over networks.
    probabilities, weights = build_attention_model(classifier)(ids)
    np.testing.assert_allclose(probabilities, classifier(ids), rtol=1e-5)
    np.testing.assert_allclose(np.sum(weights, -1), 1, rtol=1e-5)
    # Networks trained alone, combined: the k-th answers as `networks[k]`.
    networks = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        networks.append(build_classifier(small(1), 40, num_classes=3))
    combined = combine(small(2), networks)
    alone = [network.predict_on_batch(ids) for network in networks]
    assert not np.allclose(alone[0], alone[1], atol=1e-4)
    np.testing.assert_allclose(combined(ids), np.mean(alone, 0), rtol=1e-5)
    with pytest.raises(ValueError, match="Expected 3 networks"):
        combine(small(3), networks)


def test_members_must_be_positive():
    with pytest.raises(ValueError, match="members"):
        small(0)
