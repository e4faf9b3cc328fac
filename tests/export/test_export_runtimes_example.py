"""docs/examples/export_runtimes.py runs as written: three runtimes agree
with Keras on inputs of another length than the export checked."""

import importlib.util
import pathlib
import runpy

import keras
import pytest

EXAMPLE = pathlib.Path(__file__).parents[2] / "docs" / "examples" / "export_runtimes.py"


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="LiteRT and SavedModel: TF"
)
@pytest.mark.skipif(
    any(
        importlib.util.find_spec(m) is None
        for m in ("onnxruntime", "tf2onnx", "ai_edge_litert")
    ),
    reason="needs the export extra",
)
def test_example_runs_and_the_runtimes_agree(tmp_path, capsys):
    module = runpy.run_path(str(EXAMPLE))
    module["main"](["--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    for name in ("digits.onnx", "digits.tflite", "digits_saved_model"):
        assert (tmp_path / name).exists(), name
    for runtime in ("ONNX Runtime", "LiteRT", "SavedModel", "Keras"):
        assert f"{runtime}: P(last > first)" in out
