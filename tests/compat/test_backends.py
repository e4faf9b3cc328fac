"""What only one backend offers is a clear error on the others (docs/compatibility.md)."""

import inspect

import keras
import numpy as np
import pytest

from keras_seq import export, layers

ON_TENSORFLOW = keras.backend.backend() == "tensorflow"


@pytest.mark.skipif(ON_TENSORFLOW, reason="export runs on TensorFlow")
@pytest.mark.parametrize(
    "export_fn",
    [
        export.export_text_classifier,
        export.export_sequence_tagger,
        export.export_text_generator,
        export.write_text_signatures,
    ],
)
def test_savedmodel_export_needs_tensorflow(export_fn, tmp_path):
    names = list(inspect.signature(export_fn).parameters)[1:]
    required = {
        name: None
        for name in names
        if inspect.signature(export_fn).parameters[name].default is inspect._empty
    }
    with pytest.raises(ValueError, match="needs the TensorFlow backend.*\\.keras"):
        export_fn(str(tmp_path / "model"), **required)


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU])
def test_use_cudnn_true_without_a_fused_kernel_is_a_clear_error(cls):
    # No GPU here: the fused kernel cannot run on any backend.
    layer = cls(3, use_cudnn=True)
    with pytest.raises(ValueError, match="use_cudnn='auto'"):
        layer(np.ones((2, 4, 5), "float32"))
    auto = cls(3, use_cudnn="auto")
    assert tuple(auto(np.ones((2, 4, 5), "float32")).shape) == (2, 3)
