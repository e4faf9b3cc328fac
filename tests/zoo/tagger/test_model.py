"""The tagger's character features: `WordCharacters` against Python,
`CharacterEncoder` against one word at a time."""

import math

import keras
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from zoo.tagger.configs import Config
from zoo.tagger.model import (
    CharacterEncoder,
    WordCharacters,
    build_vectorizer,
    character_vocabulary,
)

VOCABULARY = list("中国人民的新世纪希望ab")
TEXTS = [
    "中国 人民 的 新世纪",
    "",
    "中华人民共和国成立 了",  # 9 characters: the first 3 and the last 3
    "☃ 希望ab  x",  # unknown characters, two spaces
    "的",
]


def reference(texts, vocabulary, max_chars):
    """Character ids by hand: split on spaces, cut long words in the middle."""
    index = {c: i + 2 for i, c in enumerate(vocabulary)}
    front, back = math.ceil(max_chars / 2), max_chars // 2
    rows = []
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        words = [
            w if len(w) <= max_chars else w[:front] + w[-back:]
            for w in text.split(" ")
            if w
        ]
        rows.append([[index.get(c, 1) for c in w] for w in words])
    out = np.zeros((len(rows), max(map(len, rows)), max_chars), "int64")
    for i, row in enumerate(rows):
        for t, ids in enumerate(row):
            out[i, t, : len(ids)] = ids
    return out


@pytest.mark.parametrize("max_chars", [2, 5, 6])
def test_word_characters_equal_python(max_chars):
    layer = WordCharacters(VOCABULARY, max_chars)
    got = layer(tf.constant(TEXTS)).numpy()
    np.testing.assert_array_equal(got, reference(TEXTS, VOCABULARY, max_chars))


def test_word_characters_line_up_with_the_word_ids():
    texts = TEXTS + ["新\u3000世纪 \t 人民\n的", "中" * 40]
    vectorizer = build_vectorizer(Config(), texts)
    ids = vectorizer(tf.constant(texts)).numpy()
    chars = WordCharacters(VOCABULARY)(tf.constant(texts)).numpy()
    assert chars.shape[:2] == ids.shape
    np.testing.assert_array_equal(chars[..., 0] != 0, ids != 0)


def test_bytes_that_are_not_utf8_are_unknown_characters():
    texts = [b"\xff\xfe \xe4\xb8\xad\xe5", "中国".encode()]
    got = WordCharacters(VOCABULARY)(tf.constant(texts)).numpy()
    np.testing.assert_array_equal(got, reference(texts, VOCABULARY, 6))
    assert got[0, 0, :2].tolist() == [1, 1] and got[0, 1, :2].tolist() == [2, 1]


def test_character_vocabulary_by_count_then_code_point():
    paragraphs = ["的 中国 人民", "的 人", "国"]
    # 的 2, 国 2, 人 2, 中 1, 民 1: ties by code point
    assert character_vocabulary(paragraphs, 10) == sorted("的国人", key=ord) + [
        "中",
        "民",
    ]
    assert character_vocabulary(paragraphs, 4) == sorted("的国人", key=ord)[:2]


def test_character_encoder_equals_each_word_alone():
    keras.utils.set_random_seed(0)
    encoder = CharacterEncoder(len(VOCABULARY) + 2, 5, 3)
    chars = WordCharacters(VOCABULARY, 4)(tf.constant(TEXTS)).numpy()
    got = keras.ops.convert_to_numpy(encoder(chars))  # (batch, words, 6)
    assert got.shape == chars.shape[:2] + (6,)
    for b in range(chars.shape[0]):
        for t in range(chars.shape[1]):
            word = chars[b, t][chars[b, t] != 0]
            if len(word) == 0:  # padding: zeros
                np.testing.assert_array_equal(got[b, t], 0)
                continue
            alone = encoder.encoder(encoder.embedding(word[None]))  # (1, 6)
            np.testing.assert_allclose(got[b, t], alone[0], atol=1e-6)


def test_layers_round_trip_their_config():
    words = WordCharacters(VOCABULARY, 4, name="characters")
    again = WordCharacters.from_config(words.get_config())
    np.testing.assert_array_equal(
        again(tf.constant(TEXTS)).numpy(), words(tf.constant(TEXTS)).numpy()
    )
    encoder = CharacterEncoder(20, 5, 3)
    assert CharacterEncoder.from_config(encoder.get_config()).get_config() == (
        encoder.get_config()
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="`max_chars`.*>= 2, got 1"):
        WordCharacters(VOCABULARY, 1)
    with pytest.raises(ValueError, match="single characters.*'ab'"):
        WordCharacters(["a", "ab"])
    with pytest.raises(ValueError, match="rank 3.*got shape \\(2, 4\\)"):
        CharacterEncoder(20, 5, 3)(np.ones((2, 4), "int64"))


@pytest.mark.parametrize("preset", ["tiny", "tiny_chars"])
def test_padding_changes_nothing_and_is_masked_to_the_output(preset):
    import zoo
    from zoo.tagger.model import build_classifier

    keras.utils.set_random_seed(0)
    config = zoo.config("pos_zh", preset)
    model = build_classifier(config, 50, 10)
    ids = np.array([[3, 4, 5, 0], [6, 0, 0, 0]])
    chars = np.random.default_rng(0).integers(2, 20, (2, 4, config.max_word_chars))
    chars[ids == 0] = 0

    def call(pad):
        inputs = [np.pad(ids, [(0, 0), (0, pad)])]
        if config.char_units:
            inputs.append(np.pad(chars, [(0, 0), (0, pad), (0, 0)]))
        return model(inputs if config.char_units else inputs[0])

    outputs = call(0)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(outputs._keras_mask), ids != 0
    )
    padded = keras.ops.convert_to_numpy(call(4))[:, :4]
    # Before CharacterEncoder had a mask, Concatenate unmasked the padding
    # and the characters' model moved by 9e-4 here.
    np.testing.assert_allclose(
        padded[ids != 0], keras.ops.convert_to_numpy(outputs)[ids != 0], atol=1e-6
    )
