import json
import os

import numpy as np
import pytest

from zoo.word2vec.__main__ import main


def write_corpus(path):
    rng = np.random.default_rng(0)
    families = [[f"a{i}" for i in range(8)], [f"b{i}" for i in range(8)]]
    with open(path, "w") as f:
        f.writelines(
            " ".join(rng.choice(families[rng.random() < 0.5], size=6)) + "\n"
            for _ in range(1500)
        )


def test_train_writes_vectors_metrics_plot(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    write_corpus(corpus)
    workdir = tmp_path / "run"
    metrics = main(
        [
            "train", "--corpus", str(corpus), "--model", "cbow", "--dim", "8",
            "--window", "2", "--min-count", "1", "--epochs", "2", "--batch-size", "256",
            "--workdir", str(workdir), "--plot-words", "a0", "a1", "b0", "b1",
        ]
    )  # fmt: skip
    for name in ("vectors.txt", "vectors.bin", "metrics.json", "pca.png"):
        assert os.path.getsize(workdir / name) > 0, name
    assert (workdir / "projector" / "metadata.tsv").exists()
    saved = json.loads((workdir / "metrics.json").read_text())
    assert saved["vocabulary"] == 16 and saved["words_per_second"] > 0
    assert "error" in saved["wordsim353"]  # none of its words in this corpus
    assert metrics["vocabulary"] == 16
    main(["neighbours", "--vectors", str(workdir / "vectors.txt"), "--topn", "3", "a0"])
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert last.startswith("a0: ") and last.count(",") == 2  # three neighbours


def test_bad_corpus_and_unknown_word(tmp_path):
    with pytest.raises(SystemExit, match="'ptb' or an existing text file"):
        main(["train", "--corpus", str(tmp_path / "missing.txt")])
    corpus = tmp_path / "corpus.txt"
    write_corpus(corpus)
    main(["train", "--corpus", str(corpus), "--dim", "4", "--min-count", "1",
          "--epochs", "1", "--workdir", str(tmp_path / "run")])  # fmt: skip
    with pytest.raises(SystemExit, match="'zebra' is not in the vocabulary"):
        main(
            ["neighbours", "--vectors", str(tmp_path / "run" / "vectors.txt"), "zebra"]
        )


def test_bad_settings_and_files_end_in_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_TRACEBACK", raising=False)
    corpus = tmp_path / "corpus.txt"
    write_corpus(corpus)
    not_utf8 = tmp_path / "latin1.txt"
    not_utf8.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    run = tmp_path / "run"
    train = ["train", "--min-count", "1", "--epochs", "1", "--workdir", str(run)]
    cases = [
        ([*train, "--corpus", str(corpus), "--epochs", "0"], "`epochs`, expected a"),
        ([*train, "--corpus", str(not_utf8)], "latin1.txt:1: expected a UTF-8"),
        ([*train, "--corpus", str(tmp_path)], "Expected a UTF-8 text file, got the"),
        (
            [*train, "--corpus", str(corpus), "--workdir", str(a_file)],
            f"--workdir {a_file} is a file: expected a directory",
        ),
        (
            ["neighbours", "--vectors", str(tmp_path / "none.txt"), "a0"],
            "none.txt: no such file (expected the vectors.txt",
        ),
        (
            ["neighbours", "--vectors", str(corpus), "a0"],
            "expected a 'count dim' header",
        ),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert str(exit_.value.code).startswith(
            f"python -m zoo.word2vec {argv[0]}: error: "
        ), argv
        assert message in str(exit_.value.code), argv
    assert not run.exists()


def test_zoo_traceback_shows_where_the_error_came_from(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_TRACEBACK", "1")
    corpus = tmp_path / "corpus.txt"
    write_corpus(corpus)
    with pytest.raises(ValueError, match="`epochs`"):
        main(["train", "--corpus", str(corpus), "--epochs", "0"])
