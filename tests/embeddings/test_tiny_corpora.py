"""Tiny corpora train to finite vectors, or are refused up front, kernel or not."""

import keras
import numpy as np
import pytest

from keras_seq.embeddings import train
from keras_seq.embeddings.skip_gram import SkipGram

ON_TENSORFLOW = keras.backend.backend() == "tensorflow"


def fourteen_word_corpus(seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(14)]
    return [list(rng.choice(words, 10)) for _ in range(400)]


@pytest.fixture(params=["kernel", "no_kernel"] if ON_TENSORFLOW else ["no_kernel"])
def kernel(request, monkeypatch):
    if request.param == "no_kernel":
        # CBOW inherits `_uses_kernel` from SkipGram.
        monkeypatch.setattr(SkipGram, "_uses_kernel", lambda self: False)
    return request.param


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("negative", [1, 5])
def test_one_short_batch_trains_to_finite_vectors(kernel, architecture, negative):
    # 4,000 tokens: the whole epoch is one batch far shorter than batch_size,
    # which must not scale each example's rate up by batch_size / its length.
    vectors, _, history = train(
        fourteen_word_corpus(),
        architecture,
        min_count=5,
        epochs=1,
        negative=negative,
        dim=16,
        verbose=0,
    )
    loss = history.history["loss"][-1]
    assert np.isfinite(vectors.vectors).all()
    # The loss of the initial vectors is (1 + negative) log 2; one epoch at
    # word2vec's rate stays of that order.
    assert 0 < loss < 2 * (1 + negative) * np.log(2)
    assert np.abs(vectors.vectors).max() < 1.0


def test_the_rate_per_example_is_over_the_full_batch_size():
    model = SkipGram(10, dim=4, negative=2, unigram_log_probs=[0.0] * 10)
    model.compile(optimizer=keras.optimizers.SGD(8.0), loss=lambda y, p: p)
    as_batch = float(keras.ops.convert_to_numpy(model._rate_per_example(4)))
    assert as_batch == pytest.approx(2.0)
    model.rate_batch_size = 32
    short = float(keras.ops.convert_to_numpy(model._rate_per_example(4)))
    assert short == pytest.approx(0.25)


def test_no_examples_is_refused_up_front(kernel):
    one_word_sentences = [["a"]] * 50 + [["b"]] * 50
    with pytest.raises(ValueError, match="no sentence has two or more words"):
        train(one_word_sentences, min_count=1, verbose=0)


def test_subsampling_everything_is_refused_with_the_setting_to_change(kernel):
    with pytest.raises(ValueError, match="pass `sample=0`"):
        train([["a", "b"]] * 10, min_count=1, dim=8, verbose=0)
    vectors, _, _ = train([["a", "b"]] * 10, min_count=1, dim=8, sample=0, verbose=0)
    assert np.isfinite(vectors.vectors).all()


def test_divergence_is_an_error_naming_the_rate(kernel):
    with pytest.raises(ValueError, match="smaller `learning_rate`"):
        train(
            fourteen_word_corpus(1),
            min_count=5,
            epochs=2,
            dim=8,
            learning_rate=1e38,
            verbose=0,
        )


@pytest.mark.skipif(ON_TENSORFLOW, reason="tf.data's empty epoch: the test above")
def test_a_draw_that_keeps_no_example_names_the_setting(monkeypatch):
    # Subsampling may keep no pair of a small corpus although it is expected
    # to keep a few (so not refused up front): keras_seq's error, not
    # Keras's about an empty generator.
    from keras_seq.embeddings import trainer

    def no_batches(*args, **kwargs):
        yield from ()

    monkeypatch.setattr(trainer, "numpy_batches", no_batches)
    monkeypatch.setattr(trainer, "jax_batches", no_batches)
    corpus = [["the", "cat", "sat", "on", "the", "mat"]] * 50
    with pytest.raises(ValueError, match="Training ran no step.*`sample=0`"):
        train(corpus, dim=8, min_count=1, epochs=1, sample=0, verbose=0)
