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


def test_zoo_run_becomes_a_results_file(tmp_path):
    provenance = {
        "command": "python -m zoo train pos_zh",
        "date": "2026-01-01",
        "machine": "m",
        "versions": {"keras": "3"},
        "commit": "abc",
    }
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
