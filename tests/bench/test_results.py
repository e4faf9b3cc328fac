"""The results files and what is generated from them (`bench/results.py`)."""

import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import results


@pytest.mark.parametrize("name", results.names())
def test_every_results_file_is_complete(name):
    record = results.load(name)  # raises on a missing field or a bad target
    assert record["measures"], f"{name}: no measures"
    assert re.match(r"(KERAS_BACKEND=\w+ )?python ", record["command"]), record[
        "command"
    ]


def test_generated_page_and_tables_are_up_to_date():
    stale = results.stale()
    assert not stale, (
        f"stale: {[str(p.relative_to(ROOT)) for p in stale]}; "
        "run: python bench/results.py render"
    )


def record(rows):
    return {
        "title": "t",
        "command": "python tool.py",
        "date": "2026-01-01",
        "machine": "m",
        "versions": {"keras": "3"},
        "commit": "abc",
        "measures": rows,
    }


def test_table_computes_ratio_and_status():
    rows = [
        results.measure(
            "a", 80.0, "ms", "peer", 100.0, {"on": "ratio", "at_most": 1.0}
        ),
        results.measure("b", 0.85, "", None, None, {"on": "value", "at_least": 0.86}),
        results.measure("c", 3.0, "ms", "peer", 2.0),
    ]
    lines = results.table(record(rows)).splitlines()[2:]
    assert lines[0] == "| a | 80 ms | peer: 100 ms | 0.80 | ratio <= 1 | met |"
    assert lines[1] == "| b | 0.85 |  |  | value >= 0.86 | **not met** |"
    assert lines[2] == "| c | 3 ms | peer: 2 ms | 1.50 |  |  |"


@pytest.mark.parametrize(
    "row, message",
    [
        ({"measure": "x", "value": float("nan"), "unit": ""}, "value nan"),
        (
            {"measure": "x", "value": 1.0, "target": {"on": "speed", "at_most": 1}},
            "target",
        ),
        (
            {"measure": "x", "value": 1.0, "target": {"on": "ratio", "at_most": 1}},
            "no peer",
        ),
    ],
)
def test_bad_records_are_refused(row, message):
    with pytest.raises(ValueError, match=message):
        results.check(record([row]), "here")
    incomplete = record([])
    del incomplete["machine"]
    with pytest.raises(ValueError, match="machine"):
        results.check(incomplete, "here")


def test_marked_tables_are_rendered_from_their_file(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "DIRECTORY", tmp_path)
    rows = [results.measure("a", 1.5, "s")]
    (tmp_path / "demo.json").write_text(json.dumps(record(rows)))
    text = "before\n<!-- results demo -->\nold\n<!-- end results -->\nafter\n"
    new = results.render_marked(text)
    assert new.startswith("before\n<!-- results demo -->\n`python tool.py` · m")
    assert "| a | 1.5 s |" in new and "old" not in new
    assert new.endswith("<!-- end results -->\nafter\n")


def provenance_of(command):
    """A zoo run's recorded provenance, for `metrics.json` files of tests."""
    return {
        "command": command,
        "date": "2026-01-01",
        "machine": "m",
        "versions": {"keras": "3"},
        "commit": "abc",
    }


def test_zoo_run_becomes_a_results_file(tmp_path):
    provenance = provenance_of("python -m zoo train pos_zh")
    metrics = {
        "model": "pos_zh",
        "provenance": provenance,
        "test_token_accuracy": 0.956,
        "test_unknown_word_accuracy": 0.52,
        "most_frequent_tag_accuracy": 0.917,
    }
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    path = results.from_zoo(tmp_path, tmp_path / "out.json")
    written = json.loads(path.read_text())
    assert written["command"] == "python -m zoo train pos_zh"
    first = written["measures"][0]
    assert (first["value"], first["peer_value"]) == (0.956, 0.917)
    del metrics["provenance"]
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(SystemExit, match="no provenance"):
        results.from_zoo(tmp_path, tmp_path / "out.json")


def translation_metrics(model, chosen):
    metrics = {
        "model": model,
        "provenance": {
            "command": f"python -m zoo train {model}",
            "date": "2026-01-01",
            "machine": "m",
            "versions": {"keras": "3"},
            "commit": "abc",
        },
        "test_bleu": {
            "greedy": {"sacrebleu": 20.0},
            "beam4_alpha0.7": {"sacrebleu": 25.0},
        },
    }
    if chosen is not None:
        metrics["length_penalty_choice"] = {
            "command": "python bench/studies/translation_length_penalty.py run",
            "beam_width": 4,
            "validation_bleu": {"0.7": 24.0, "1.0": 26.0},
            "chosen_alpha": 1.0,
            "test_bleu": {"0.7": 25.0, "1.0": chosen},
            "chosen_test_bleu": chosen,
        }
    return metrics


def test_translation_runs_and_the_length_penalty_choice(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "DIRECTORY", tmp_path)
    run = tmp_path / "run"
    run.mkdir()

    def written(model, chosen):
        (run / "metrics.json").write_text(
            json.dumps(translation_metrics(model, chosen))
        )
        path = results.from_zoo(run, tmp_path / f"zoo_{model}.json")
        record = json.loads(path.read_text())
        return record, {row["measure"]: row for row in record["measures"]}

    # Before the sweep: the training run's two figures, no target yet.
    _, rows = written("translate_rnn", None)
    assert set(rows) == {
        "test BLEU, greedy",
        "test BLEU, beam 4, the config's length penalty",
    }
    assert rows["test BLEU, beam 4, the config's length penalty"]["value"] == 25.0
    # A run whose config had another length penalty: that alpha's figure.
    metrics = translation_metrics("translate_rnn", None)
    metrics["config"] = {"length_penalty": 1.0}
    metrics["test_bleu"]["beam4_alpha1.0"] = {"sacrebleu": 27.0}
    (run / "metrics.json").write_text(json.dumps(metrics))
    record = json.loads(results.from_zoo(run, tmp_path / "alpha.json").read_text())
    figures = {row["measure"]: row["value"] for row in record["measures"]}
    assert figures["test BLEU, beam 4, the config's length penalty"] == 27.0
    # After it: the chosen alpha's figure, with translate_rnn's target.
    record, rows = written("translate_rnn", 29.5)
    chosen = rows[results.CHOSEN]
    assert chosen["value"] == 29.5
    assert chosen["target"] == {"on": "value", "at_least": 30.0}
    assert "alpha 1.0" in record["notes"] and "0.7: 24.0" in record["notes"]
    # The transformer's peer is translate_rnn's results file, written above.
    _, rows = written("translate_transformer", 31.0)
    chosen = rows[results.CHOSEN]
    assert (chosen["peer"], chosen["peer_value"]) == ("translate_rnn", 29.5)
    assert chosen["target"] == {"on": "ratio", "at_least": 1.0}
    # Without it: no peer, no ratio target.
    (tmp_path / "zoo_translate_rnn.json").unlink()
    _, rows = written("translate_transformer", 31.0)
    assert "peer" not in rows[results.CHOSEN]
    assert "target" not in rows[results.CHOSEN]


def test_translation_targets_hold_on_the_default_data_only(tmp_path):
    run = tmp_path / "run"
    run.mkdir()

    def rows(model, name):
        metrics = translation_metrics(model, 12.0)
        metrics["config"] = {"dataset": "ding_de_en"}
        (run / "metrics.json").write_text(json.dumps(metrics))
        record = json.loads(results.from_zoo(run, tmp_path / name).read_text())
        return {row["measure"]: row for row in record["measures"]}

    # A Ding run: its figures, no Bible target.
    chosen = rows("translate_rnn", "zoo_translate_rnn_ding.json")[results.CHOSEN]
    assert chosen["value"] == 12.0 and "target" not in chosen
    # The transformer's peer: translate_rnn's file of the same name.
    chosen = rows("translate_transformer", "zoo_translate_transformer_ding.json")[
        results.CHOSEN
    ]
    assert (chosen["peer"], chosen["peer_value"]) == ("translate_rnn", 12.0)
    assert "target" not in chosen


def test_a_benchmark_writes_a_complete_file(tmp_path):
    out = tmp_path / "attention.json"
    subprocess.run(
        [
            sys.executable,
            "bench/attention.py",
            "--batch",
            "2",
            "--length",
            "8",
            "--heads",
            "2",
            "--key-dim",
            "4",
            "--repeats",
            "1",
            "--results",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    written = json.loads(out.read_text())
    results.check(written, out)
    assert [m["measure"] for m in written["measures"]] == [
        "self-attention (full), train step",
        "self-attention (full), forward",
        "self-attention (causal), train step",
        "self-attention (causal), forward",
    ]


def test_lm_ptb_runs_meet_zaremba_for_their_size(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "DIRECTORY", tmp_path)
    provenance = provenance_of("python -m zoo train lm_ptb --preset small")
    for units, tied, want in [
        (200, False, 114.5),
        (650, False, 82.7),
        (200, True, None),
    ]:
        metrics = {
            "model": "lm_ptb",
            "provenance": provenance,
            "config": {"units": units, "tie_weights": tied},
            "test_perplexity": 113.9,
            "valid_perplexity": 118.0,
        }
        (tmp_path / "metrics.json").write_text(json.dumps(metrics))
        results.main(["zoo", str(tmp_path), "--name", "zoo_lm_ptb_small"])
        record = json.loads((tmp_path / "zoo_lm_ptb_small.json").read_text())
        assert record["title"] == "Zoo: lm_ptb_small"
        test, valid = record["measures"]
        assert (test["value"], valid["value"]) == (113.9, 118.0)
        if want is None:  # no paper figure for this size: no target
            assert "target" not in test
        else:
            assert test["target"] == {"on": "value", "at_most": want}


@pytest.mark.parametrize(
    "command, name",
    [
        ("python -m zoo train lm_ptb", "lm_ptb"),
        ("python -m zoo train lm_ptb --preset default", "lm_ptb"),
        (
            "python -m zoo train lm_ptb --preset small_tied --workdir r",
            "lm_ptb_small_tied",
        ),
        ("python -m zoo train lm_ptb --preset=medium", "lm_ptb_medium"),
    ],
)
def test_a_runs_results_are_named_by_its_preset(tmp_path, monkeypatch, command, name):
    monkeypatch.setattr(results, "DIRECTORY", tmp_path)
    metrics = {
        "model": "lm_ptb",
        "provenance": provenance_of(command),
        "config": {"units": 200},
        "test_perplexity": 113.9,
        "valid_perplexity": 118.0,
    }
    assert results.run_name(metrics) == name
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    results.main(["zoo", str(tmp_path)])
    record = json.loads((tmp_path / f"zoo_{name}.json").read_text())
    assert record["title"] == f"Zoo: {name}"


def test_summary_lists_targets_and_links_the_rest_in_one_row(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "DIRECTORY", tmp_path)
    files = {
        "a": (
            "Speed",
            [
                results.measure(
                    "x", 2.0, "ms", "peer", 4.0, {"on": "ratio", "at_most": 1.0}
                )
            ],
        ),
        "b": ("Serving b", [results.measure("y", 3.0, "ms")]),
        "c": ("Serving c", [results.measure("z", 5.0, "ms")]),
    }
    for name, (title, rows) in files.items():
        record = {"title": title, **provenance_of("python x.py"), "measures": rows}
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    lines = results.summary("results.md").splitlines()
    assert lines[2] == "| [Speed](results.md#speed) | 1 of 1 |  |"
    assert lines[3] == (
        "| figures without a target: [Serving b](results.md#serving-b), "
        "[Serving c](results.md#serving-c) | | |"
    )
    assert len(lines) == 4


def test_no_figure_is_copied_by_hand():
    """A figure of a results file appears in the tables generated from it,
    not typed into another page, where it would go stale."""
    assert results.copied_figures() == []


def test_a_copied_figure_is_found(tmp_path, monkeypatch):
    """The check above can fail: a figure typed into a page is found, the
    same figure inside a generated table is not."""
    name = results.names()[0]
    row = next(r for r in results.load(name)["measures"] if r.get("unit"))
    figure = results._number(row["value"], row["unit"])
    page = tmp_path / "page.md"
    page.write_text(
        f"<!-- results {name} -->\n| {figure} |\n<!-- end results -->\n"
        f"It took {figure} here.\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(results, "ROOT", tmp_path)
    monkeypatch.setattr(results, "markdown_files", lambda: [page])
    assert results.copied_figures() == [("page.md", 4, figure, name)]
