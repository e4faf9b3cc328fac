"""The tutorial script of docs/seq2seq.md runs end to end on a small TSV.

TSV -> `TextVectorization` -> `Seq2Seq.fit` -> beam search -> BLEU -> a
SavedModel asked from a fresh process. The made-up pairs are learnable in
a few epochs, so BLEU tells whether the ids, the search and the words line
up; the served translations must be the script's own.
"""

import importlib.util
import json
import pathlib

import pytest

pytest.importorskip("tensorflow")

from tests.export.tutorial_data import write_tsv

SCRIPT = (
    pathlib.Path(__file__).parents[2] / "docs" / "examples" / "seq2seq_translate.py"
)


def load_script():
    spec = importlib.util.spec_from_file_location("seq2seq_translate", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tutorial_from_tsv_to_bleu_and_a_served_model(tmp_path):
    tsv = write_tsv(str(tmp_path / "pairs.tsv"), count=800)
    workdir = tmp_path / "run"
    results = load_script().main(
        [
            tsv,
            "--workdir",
            str(workdir),
            "--units",
            "32",
            "--epochs",
            "12",
            "--max-length",
            "10",
            "--batch-size",
            "32",
        ]
    )
    assert results["test_pairs"] == 80
    assert results["test_bleu"] >= 90.0
    examples = results["examples"]
    assert len(examples) == 5
    assert all(e["served"] == e["translation"] for e in examples)
    assert json.loads((workdir / "results.json").read_text()) == results
    assert (workdir / "export" / "saved_model.pb").exists()
    assert (workdir / "model.keras").exists()
