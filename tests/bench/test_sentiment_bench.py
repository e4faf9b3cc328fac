"""`bench/sentiment.py`: seeds of one split beside the baselines, on the tiny preset."""

import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("snownlp") is None, reason="needs snownlp"
)


def load_bench():
    path = pathlib.Path(__file__).parents[2] / "bench" / "sentiment.py"
    spec = importlib.util.spec_from_file_location("bench_sentiment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_seeds_share_the_split_and_meet_the_baselines(
    tmp_path, monkeypatch, capsys
):
    bench = load_bench()
    workdir = tmp_path / "bench"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "sentiment.py",
            "--models",
            "sentiment_zh",
            "--preset",
            "tiny",
            "--seeds",
            "2",
            "--workdir",
            str(workdir),
            "--results",
            str(tmp_path / "sentiment.json"),
            "--set",
            "embedding_dim=6",
        ],
    )
    bench.main()
    recorded = json.loads((tmp_path / "sentiment.json").read_text())
    (row,) = recorded["measures"]
    assert row["peer"] in {
        "snownlp naive Bayes (retrained) (the best baseline)",
        "bag-of-words logistic regression (the best baseline)",
    }
    with open(workdir / "results.json", encoding="utf-8") as f:
        results = json.load(f)["sentiment_zh"]
    runs = results["runs"]
    assert [run["config"]["seed"] for run in runs] == [0, 1]
    assert {run["config"]["split_seed"] for run in runs} == {0}
    assert runs[0]["sizes"] == runs[1]["sizes"]
    assert {run["config"]["embedding_dim"] for run in runs} == {6}  # --set
    assert row["measure"].startswith("`sentiment_zh` `tiny` `embedding_dim=6`:")
    accuracies = {row[0]: row[1] for row in results["rows"]}
    mean = accuracies["keras_seq `tiny`, mean of 2 seeds"]
    assert mean == pytest.approx(np.mean([run["test_accuracy"] for run in runs]))
    baselines = [
        accuracies["snownlp naive Bayes (retrained)"],
        accuracies["bag-of-words logistic regression"],
    ]
    assert all(0.0 < accuracy <= 1.0 for accuracy in baselines)
    assert results["lead"] == pytest.approx(mean - max(baselines))
    assert row["value"] == pytest.approx(mean, abs=1e-4)
    assert row["peer_value"] == pytest.approx(max(baselines), abs=1e-4)
    assert "target" not in row  # the target is the default preset's
    out = capsys.readouterr().out
    assert "| sentiment_zh | lead of the mean over the best baseline |" in out


def test_seeds_must_be_positive(monkeypatch):
    bench = load_bench()
    monkeypatch.setattr(sys, "argv", ["sentiment.py", "--seeds", "0"])
    with pytest.raises(SystemExit):
        bench.main()


def test_settings_that_keep_the_preset_change_nothing():
    bench = load_bench()
    tiny = bench.zoo.config("sentiment_zh", "tiny")
    same, other = f"units={tiny.units}", f"units={tiny.units + 1}"
    assert bench.changed_settings("sentiment_zh", "tiny", [same, other]) == [other]


def test_set_names_an_unknown_field(monkeypatch, capsys):
    bench = load_bench()
    argv = ["sentiment.py", "--models", "sentiment_zh", "--set", "member=3"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit):
        bench.main()
    assert "got 'member=3'" in capsys.readouterr().err


def test_networks_alone_are_read_from_runs_of_several():
    bench = load_bench()
    runs = [
        {
            "test_accuracy": 0.8,
            "members": [{"test_accuracy": 0.7}, {"test_accuracy": 0.6}],
        },
        {
            "test_accuracy": 0.9,
            "members": [{"test_accuracy": 0.5}, {"test_accuracy": 0.4}],
        },
    ]
    assert bench.networks_alone(runs) == [0.7, 0.6, 0.5, 0.4]
    assert bench.networks_alone([{"test_accuracy": 0.8}]) == []


def test_results_file_names_the_models_and_changed_settings(tmp_path):
    bench = load_bench()
    both = sorted(bench.BASELINES)
    default = str(tmp_path / "sentiment.json")
    assert bench.results_path(default, both, []) == default
    named = bench.results_path(default, ["sentiment_zh"], ["members=3"])
    assert named == str(tmp_path / "sentiment_zh_members3.json")
    named = bench.results_path(default, ["sentiment_en"], ["dropout=0.5"])
    assert named == str(tmp_path / "sentiment_en_dropout0_5.json")
