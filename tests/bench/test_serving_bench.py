"""`bench/serving.py` on a tiny sentiment model: every runtime timed beside
Keras `predict` (`--runtimes`), and the SavedModel's serving figures, each
written to a results file with its command."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    any(
        importlib.util.find_spec(m) is None
        for m in ("snownlp", "onnxruntime", "tf2onnx", "ai_edge_litert")
    ),
    reason="needs snownlp and the export extra",
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A tiny sentiment_zh run, trained and exported once for the module."""
    import zoo
    from zoo.sentiment import train

    path = str(tmp_path_factory.mktemp("serving") / "tiny")
    train.train_and_evaluate(zoo.config("sentiment_zh", "tiny"), path)
    return path


def test_runtimes_are_timed_against_keras_predict(workdir, tmp_path):
    out_json = tmp_path / "runtimes.json"
    argv = ["--runtimes", workdir, "--batch", "8", "--repeats", "2"]
    result = subprocess.run(
        [sys.executable, "bench/serving.py", *argv, "--results", str(out_json)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    runtimes = ["Keras predict", "Keras call", "ONNX Runtime", "LiteRT interpreter"]
    assert [row.split(" | ")[0][2:] for row in rows] == runtimes
    assert rows[0].split(" | ")[2] == "1.00"
    record = json.loads(out_json.read_text())
    assert record["title"].startswith("Runtimes of the numeric core of sentiment_zh")
    assert record["command"].startswith(
        f"python bench/serving.py --runtimes {workdir} --batch 8"
    )
    measures = {row["measure"]: row for row in record["measures"]}
    expected = {
        f"sentiment_zh, {runtime}, {case}"
        for runtime in runtimes
        for case in ("batch of 8", "one text")
    }
    assert set(measures) == expected
    for name, row in measures.items():
        assert row["unit"] == "ms" and row["value"] > 0
        if "Keras predict" in name:
            assert "peer" not in row
        else:
            case = name.rsplit(", ", 1)[1]
            predict = measures[f"sentiment_zh, Keras predict, {case}"]
            assert row["peer"] == "Keras predict"
            assert row["peer_value"] == predict["value"]


def test_savedmodel_figures_go_to_the_models_results_file(workdir, tmp_path):
    argv = [workdir, "--batch", "8", "--repeats", "2", "--results", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "bench/serving.py", *argv],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((tmp_path / "serving_sentiment_zh.json").read_text())
    assert record["title"] == "Serving sentiment_zh (`bench/serving.py`)"
    assert record["command"] == "python bench/serving.py " + " ".join(argv)
    rows = {row["measure"]: row for row in record["measures"]}
    assert rows["sentiment_zh, training (fit)"]["unit"] == "examples/s"
    assert rows["sentiment_zh, SavedModel, batch of 8"]["unit"] == "texts/s"
    one = rows["sentiment_zh, SavedModel, one text"]
    assert one["unit"] == "ms" and one["target"] == {"on": "value", "at_most": 10.2}
    assert all(row["value"] > 0 for row in rows.values())
    printed = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert printed[-1].startswith("| sentiment_zh | ")
