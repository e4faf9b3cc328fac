import importlib.util

import numpy as np
import pytest
from scipy import stats

from keras_seq.embeddings import (
    Vocabulary,
    cbow_examples,
    corpus_ids,
    keep_probabilities,
    skipgram_pairs,
    subsample,
    unigram_table,
)
from keras_seq.embeddings.trainer import make_dataset, numpy_batches, train

# The tf.data pipeline's functions; tests/embeddings/test_epoch_examples.py
# checks the NumPy and JAX ones.
requires_tensorflow = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow"
)
NOTES = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]


def notes_ids():
    vocab = Vocabulary.build([NOTES], min_count=1)
    ids, sentences = corpus_ids([NOTES], vocab)
    return vocab, ids, sentences


@requires_tensorflow
def test_notes_example_pairs():
    vocab, ids, sentences = notes_ids()
    centres, contexts = skipgram_pairs(ids, sentences, window=2, dynamic=False)
    pairs = [
        (vocab.words[c], vocab.words[x])
        for c, x in zip(centres.numpy(), contexts.numpy())
    ]
    assert pairs[:9] == [
        ("the", "quick"),
        ("the", "brown"),
        ("quick", "the"),
        ("quick", "brown"),
        ("quick", "fox"),
        ("brown", "the"),
        ("brown", "quick"),
        ("brown", "fox"),
        ("brown", "jumps"),
    ]
    # Every token pairs with each neighbour within 2: 2+3+4*5+3+2 = 30 pairs.
    expected = [
        (NOTES[i], NOTES[j])
        for i in range(len(NOTES))
        for j in range(i - 2, i + 3)
        if j != i and 0 <= j < len(NOTES)
    ]
    assert pairs == expected


@requires_tensorflow
def test_windows_stay_in_sentences():
    vocab = Vocabulary.build([["a", "b"], ["c", "d", "e"]], min_count=1)
    ids, sentences = corpus_ids([["a", "b"], ["c", "d", "e"]], vocab)
    centres, contexts = skipgram_pairs(ids, sentences, window=3, dynamic=False)
    pairs = {
        (vocab.words[c], vocab.words[x])
        for c, x in zip(centres.numpy(), contexts.numpy())
    }
    assert pairs == {
        ("a", "b"), ("b", "a"), ("c", "d"), ("c", "e"),
        ("d", "c"), ("d", "e"), ("e", "c"), ("e", "d"),
    }  # fmt: skip
    contexts, centres = cbow_examples(
        ids, sentences, window=2, pad_id=-1, dynamic=False
    )
    assert contexts.numpy().tolist()[0] == [-1, -1, ids[1], -1]  # "a": only "b"
    assert centres.numpy().tolist() == ids.tolist()


@requires_tensorflow
def test_dynamic_window_distribution():
    # Reach b ~ uniform{1..w}: a pair at distance d survives with (w - d + 1) / w.
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 50, size=20000).astype("int32")
    sentences = np.zeros_like(ids)
    window = 5
    centres, _ = skipgram_pairs(ids, sentences, window, seed=[1, 2])
    # Recover distances from positions: use unique ids per position instead.
    positions = np.arange(len(ids), dtype="int32")
    c, x = skipgram_pairs(positions, sentences, window, seed=[1, 2])
    distances = np.abs(x.numpy() - c.numpy())
    counts = np.bincount(distances, minlength=window + 1)[1:]
    expected = np.array([(window - d + 1) / window for d in range(1, window + 1)])
    expected = expected / expected.sum() * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    assert len(centres) == len(c)  # the same seed draws the same windows


@requires_tensorflow
def test_subsampling_follows_keep_probabilities():
    counts = np.array([50000, 20000, 5000, 500, 50])
    ids = np.repeat(np.arange(5), counts).astype("int32")
    keep = keep_probabilities(counts, sample=1e-2)
    kept, _ = subsample(ids, np.zeros_like(ids), keep, seed=[3, 4])
    kept_counts = np.bincount(kept.numpy(), minlength=5)
    for word in range(5):
        result = stats.binomtest(int(kept_counts[word]), int(counts[word]), keep[word])
        assert result.pvalue > 1e-3, (
            word,
            kept_counts[word],
            counts[word] * keep[word],
        )
    # word2vec's formula: (sqrt(f / t) + 1) * t / f, capped at 1.
    f = counts / counts.sum()
    np.testing.assert_allclose(keep, np.minimum(1, (np.sqrt(f / 1e-2) + 1) * 1e-2 / f))
    assert np.all(keep_probabilities(counts, 0) == 1)


def test_unigram_table():
    table = unigram_table([16, 1])
    np.testing.assert_allclose(np.exp(table), [8 / 9, 1 / 9], rtol=1e-6)


def test_a_word_counted_zero_times(recwarn):
    # `Vocabulary.build(..., unk=True)` gives `<unk>` the count of the words
    # it dropped: 0 when it dropped none.
    vocab = Vocabulary.build([["a", "a", "b"]], min_count=1, unk=True)
    assert vocab.words[0] == "<unk>" and vocab.counts[0] == 0
    keep = keep_probabilities(vocab.counts, sample=1e-1)
    f = np.array([2, 1]) / 3
    np.testing.assert_allclose(
        keep, [1.0, *np.minimum(1, (np.sqrt(f / 1e-1) + 1) * 1e-1 / f)]
    )
    table = unigram_table(vocab.counts)
    assert table[0] == -np.inf
    np.testing.assert_allclose(
        np.exp(table[1:]), np.array([2**0.75, 1]) / (2**0.75 + 1), rtol=1e-6
    )
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("counts", [[0, 0], [], [3, -1], [[1, 2]], [1, np.nan]])
def test_counts_are_checked(counts):
    for function in (lambda c: keep_probabilities(c, 1e-3), unigram_table):
        with pytest.raises(ValueError, match="Expected `counts`: a 1-D array"):
            function(np.array(counts))
    if len(counts) == 2 and np.ndim(counts) == 1 and -1 in counts:
        with pytest.raises(ValueError, match="counts must be >= 0, got -1 for 'b'"):
            Vocabulary(["a", "b"], counts)


def test_empty_corpus_and_min_count():
    with pytest.raises(ValueError, match="corpus is empty"):
        Vocabulary.build([[], []])
    with pytest.raises(ValueError, match="`min_count=5` leaves no word.*2 times"):
        Vocabulary.build([["a", "a", "b"]], min_count=5)
    vocab = Vocabulary.build([["a", "a", "b"]], min_count=2)
    with pytest.raises(ValueError, match="No word of the corpus is in the vocabulary"):
        corpus_ids([["c", "d"]], vocab)


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"window": 0}, "`window`, expected a positive integer, got 0"),
        ({"window": 2.5}, "`window`, expected a positive integer, got 2.5"),
        ({"epochs": 0}, "`epochs`, expected a positive integer, got 0"),
        ({"sample": -1e-3}, "`sample`, expected a finite number >= 0"),
        ({"sample": float("nan")}, "`sample`, expected a finite number >= 0"),
        ({"batch_size": 0}, "`batch_size`, expected a positive integer"),
        ({"learning_rate": 0}, "`learning_rate`, expected a finite number > 0"),
        ({"architecture": "glove"}, "`architecture`, expected one of"),
    ],
)
def test_train_refuses_bad_settings_before_any_work(setting, message):
    # Each used to run: no examples at all (window 0, epochs 0: untrained
    # vectors returned), a NaN inside, or an error from deep in TensorFlow.
    with pytest.raises(ValueError, match=message):
        train([["a", "b", "c"]] * 4, min_count=1, verbose=0, **setting)
    if "learning_rate" not in setting:
        counts = np.array([4, 4, 4])
        ids, sentences = np.array([0, 1, 2] * 4), np.repeat(np.arange(4), 3)
        settings = {"architecture": "skipgram", **setting}
        with pytest.raises(ValueError, match=message):
            make_dataset(ids, sentences, counts, **settings)
        with pytest.raises(ValueError, match=message):
            next(numpy_batches(ids, sentences, counts, **settings))


def test_corpus_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"the cat\ncaf\xe9 au lait\n")
    with pytest.raises(ValueError, match=r"corpus.txt:2: expected a UTF-8 corpus"):
        Vocabulary.build(str(path), min_count=1)
