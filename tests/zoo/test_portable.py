"""`zoo/portable.py`'s refusals (the exports themselves: each task's tests)."""

import pytest

import zoo
from zoo import portable


def test_every_model_either_has_a_core_or_says_why_not(tmp_path):
    for name in zoo.names():
        if name in portable.OUTPUT_NAMES or name == "translate_rnn":
            continue
        with pytest.raises(ValueError, match=f"{name} has no numeric core"):
            portable.numeric_core(name, None, str(tmp_path))


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"Expected --format in \['litert', 'onnx'\]"):
        portable.export_core("sentiment_zh", None, str(tmp_path), format="tflite")
