"""`zoo/portable.py`'s refusals (the exports themselves: each task's tests)."""

import pytest

import zoo
from zoo import portable


def test_every_model_has_a_core():
    for name in zoo.names():
        assert name in portable.OUTPUT_NAMES or name.startswith("translate_"), name


def test_a_model_without_a_core_is_named(tmp_path):
    with pytest.raises(ValueError, match="word2vec has no numeric core"):
        portable.numeric_core("word2vec", None, str(tmp_path))


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"Expected --format in \['litert', 'onnx'\]"):
        portable.export_core("sentiment_zh", None, str(tmp_path), format="tflite")
