"""`bench/serving.py --runtimes` on a tiny sentiment model: every runtime
timed beside Keras `predict`, the figures written with their command."""

import importlib.util
import json

import pytest

pytestmark = pytest.mark.skipif(
    any(
        importlib.util.find_spec(m) is None
        for m in ("snownlp", "onnxruntime", "tf2onnx", "ai_edge_litert")
    ),
    reason="needs snownlp and the export extra",
)


def test_runtimes_are_timed_against_keras_predict(tmp_path, capsys):
    import runpy
    import sys

    import zoo
    from zoo.sentiment import train

    workdir = str(tmp_path / "tiny")
    train.train_and_evaluate(zoo.config("sentiment_zh", "tiny"), workdir)
    capsys.readouterr()
    script = runpy.run_path("bench/serving.py")
    out_json = tmp_path / "runtimes.json"
    argv = sys.argv
    sys.argv = [
        "serving.py",
        "--runtimes",
        workdir,
        "--batch",
        "8",
        "--repeats",
        "2",
        "--json",
        str(out_json),
    ]
    try:
        script["main"]()
    finally:
        sys.argv = argv
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[0][2:] for row in rows] == [
        "Keras predict",
        "Keras call",
        "ONNX Runtime",
        "LiteRT interpreter",
    ]
    assert rows[0].split(" | ")[2] == "1.00"
    record = json.loads(out_json.read_text())
    assert record["model"] == "sentiment_zh"
    assert record["command"].startswith("python bench/serving.py --runtimes")
    assert set(record["median_ms"]) == {
        "Keras predict",
        "Keras call",
        "ONNX Runtime",
        "LiteRT interpreter",
    }
    assert all(v["batch"] > 0 and v["one"] > 0 for v in record["median_ms"].values())
