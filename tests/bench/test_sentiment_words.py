"""The token settings and the segmenter of `sentiment_words.py`."""

import dataclasses
import sys

import keras
import pytest

from tests.bench import load_script

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the study runs on TensorFlow"
)


def test_token_settings_are_the_default_but_for_the_tokens():
    from zoo.sentiment import configs
    from zoo.sentiment import model as sentiment_model

    study = load_script("sentiment_words")
    assert study.TOKENS["characters"] == {}
    for settings in study.TOKENS.values():
        config = dataclasses.replace(configs.ZH, **settings)
        changed = {
            field.name
            for field in dataclasses.fields(config)
            if getattr(config, field.name) != getattr(configs.ZH, field.name)
        }
        assert changed == set(settings)
    words = dataclasses.replace(configs.ZH, **study.TOKENS["words"])
    vectorizer = sentiment_model.build_vectorizer(words, ["好吃 不腻", "不腻"])
    vocabulary = vectorizer.get_vocabulary()
    ids = vectorizer(["好吃 不腻"]).numpy()[0]
    # Each word, then the word bigram it starts ("" after the last word).
    assert [vocabulary[i] for i in ids[:4]] == ["好吃", "好吃 不腻", "不腻", ""]
    trigrams = dataclasses.replace(configs.ZH, **study.TOKENS["trigrams"])
    vectorizer = sentiment_model.build_vectorizer(trigrams, ["停不下来"])
    vocabulary = vectorizer.get_vocabulary()
    ids = vectorizer(["停不下来"]).numpy()[0]
    assert [vocabulary[i] for i in ids[:3]] == ["停", "停 不", "停 不 下"]


def test_segmenter_without_jieba_names_the_install_command(monkeypatch):
    study = load_script("sentiment_words")
    monkeypatch.setitem(sys.modules, "jieba", None)
    with pytest.raises(SystemExit, match="pip install jieba"):
        study.segmenter()


def test_segmenter_joins_jieba_words_with_single_spaces():
    jieba = pytest.importorskip("jieba")
    study = load_script("sentiment_words")
    text = "这家店的面  好吃不腻，\t下次还来！"
    words = [word for word in jieba.lcut(text) if word.strip()]
    assert study.segmenter()(text) == " ".join(words)
    assert "  " not in study.segmenter()(text)
