"""`Seq2Seq` learns 20 pairs; `.keras` and the text-to-text SavedModel agree.

The model is built with the public API only (`TextVectorization`,
`Seq2Seq`, `fit`, `generate`, `export_seq2seq`), translates all 20 training
pairs exactly with beam search, loads from `.keras` with equal outputs, and
its SavedModel answers the same in a fresh Python process that imports only
TensorFlow.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from keras_seq.export import export_seq2seq, non_core_ops, xla_functions
from keras_seq.export.saved_model import graph_ops
from keras_seq.models import Seq2Seq
from tests.export.tutorial_data import pairs

MAX_LENGTH = 8
START, END = "[start]", "[end]"


def plain(text):
    return text.lower().rstrip(".")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    keras.utils.set_random_seed(0)
    sources, targets = zip(*((plain(s), plain(t)) for s, t in pairs(20, seed=1)))
    source = keras.layers.TextVectorization(
        standardize=None, output_sequence_length=MAX_LENGTH
    )
    source.adapt(list(sources))
    target = keras.layers.TextVectorization(
        standardize=None, output_sequence_length=MAX_LENGTH + 1
    )
    wrapped = [f"{START} {t} {END}" for t in targets]
    target.adapt(wrapped)
    vocabulary = target.get_vocabulary()
    ids = np.asarray(target(wrapped))
    source_ids = np.asarray(source(list(sources)))
    model = Seq2Seq(
        source.vocabulary_size(),
        len(vocabulary),
        embedding_dim=32,
        units=64,
        start_id=vocabulary.index(START),
        end_id=vocabulary.index(END),
    )
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    model.fit(
        [source_ids, ids[:, :-1]], ids[:, 1:], epochs=60, batch_size=10, verbose=0
    )
    path = str(tmp_path_factory.mktemp("seq2seq") / "export")
    export_seq2seq(
        path, model, source, target_vocabulary=vocabulary, max_length=MAX_LENGTH
    )
    return {
        "model": model,
        "source": source,
        "vocabulary": vocabulary,
        "sources": list(sources),
        "targets": list(targets),
        "source_ids": source_ids,
        "path": path,
    }


def words(sequences, lengths, vocabulary, end_id):
    return [
        " ".join(vocabulary[i] for i in row[:n] if i != end_id)
        for row, n in zip(np.asarray(sequences), np.asarray(lengths))
    ]


def test_beam_search_translates_every_pair(trained):
    model = trained["model"]
    sequences, _, lengths = model.generate(
        trained["source_ids"], beam_width=4, max_length=MAX_LENGTH
    )
    got = words(sequences[:, 0], lengths[:, 0], trained["vocabulary"], model.end_id)
    assert got == trained["targets"]


def test_keras_file_loads_with_equal_outputs(trained, tmp_path):
    model = trained["model"]
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    target_in = np.full((20, 3), model.start_id, "int32")
    np.testing.assert_allclose(
        loaded([trained["source_ids"], target_in]),
        model([trained["source_ids"], target_in]),
        atol=1e-5,
    )
    expected = model.generate(trained["source_ids"], max_length=MAX_LENGTH)
    got = loaded.generate(trained["source_ids"], max_length=MAX_LENGTH)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], atol=1e-5)


SERVE = """
import json, sys, tensorflow as tf
served = tf.saved_model.load(sys.argv[1])
texts = tf.constant(json.loads(sys.argv[2]))
answers = {}
for name, fn in served.signatures.items():
    answers[name] = {
        key: value.numpy().astype(str).tolist()
        if value.dtype == tf.string else value.numpy().tolist()
        for key, value in fn(texts=texts).items()
    }
print(json.dumps(answers))
"""


def test_saved_model_answers_in_a_fresh_process(trained):
    import json

    texts = [*trained["sources"], ""]
    result = subprocess.run(
        [sys.executable, "-c", SERVE, trained["path"], json.dumps(texts)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(answers) == ["serving_default", "translate_greedy", "translate_nbest"]
    assert answers["serving_default"]["translation"][:20] == trained["targets"]
    assert answers["translate_greedy"]["translation"][:20] == trained["targets"]
    nbest = answers["translate_nbest"]
    assert [row[0] for row in nbest["translations"][:20]] == trained["targets"]
    assert np.asarray(nbest["scores"]).shape == (21, 4)
    assert np.all(np.diff(nbest["scores"], axis=1) <= 1e-6)  # best first
    # The scores are the model's own.
    _, scores, _ = trained["model"].generate(
        trained["source_ids"], max_length=MAX_LENGTH
    )
    np.testing.assert_allclose(
        answers["serving_default"]["score"][:20], np.asarray(scores)[:, 0], atol=1e-4
    )
    # An empty text gets an answer too.
    assert isinstance(answers["serving_default"]["translation"][20], str)


def test_saved_model_is_core_tensorflow_without_xla(trained):
    assert xla_functions(trained["path"]) == []
    assert non_core_ops(graph_ops(trained["path"])) == []


def test_bad_arguments(trained, tmp_path):
    model, source = trained["model"], trained["source"]
    path = str(tmp_path / "x")
    with pytest.raises(ValueError, match="exactly one of `target_vocabulary`"):
        export_seq2seq(path, model, source)
    with pytest.raises(ValueError, match="exactly one of `target_vocabulary`"):
        export_seq2seq(
            path,
            model,
            source,
            target_vocabulary=trained["vocabulary"],
            target_text=lambda ids, lengths: ids,
        )
    with pytest.raises(ValueError, match=r"one word per target id, \d+ .* got 3"):
        export_seq2seq(path, model, source, target_vocabulary=["a", "b", "c"])
    with pytest.raises(ValueError, match="must be a keras_seq.models.Seq2Seq"):
        export_seq2seq(path, keras.Sequential(), source, target_vocabulary=["a"])
    with pytest.raises(ValueError, match="`source_ids` must be a layer or function"):
        export_seq2seq(path, model, "vectorizer", target_vocabulary=["a"])
    assert not os.path.exists(path)
