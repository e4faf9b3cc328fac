"""The NumPy and JAX example builders (backends without tf.data)."""

import collections
import importlib.util

import numpy as np
import pytest
from scipy import stats

from keras_seq.embeddings import keep_probabilities
from keras_seq.embeddings.pairs import epoch_examples_jax, epoch_examples_numpy

requires_jax = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="needs JAX"
)


def brute_force(tokens, sentences, window, architecture):
    """Every example of a fixed window, by loops."""
    examples = []
    for i, token in enumerate(tokens):
        context = [
            int(tokens[j])
            if 0 <= j < len(tokens) and sentences[j] == sentences[i]
            else -1
            for j in range(i - window, i + window + 1)
            if j != i
        ]
        if architecture == "skipgram":
            examples += [(int(token), c) for c in context if c >= 0]
        elif any(c >= 0 for c in context):
            examples.append((tuple(context), int(token)))
    return collections.Counter(examples)


def numpy_examples(tokens, sentences, keep, architecture, window, seed):
    return epoch_examples_numpy(
        tokens, sentences, keep, architecture, window, np.random.default_rng(seed)
    )


def jax_examples(tokens, sentences, keep, architecture, window, seed):
    import jax
    import jax.numpy as jnp

    first, second, count = epoch_examples_jax(
        jnp.asarray(tokens),
        jnp.asarray(sentences),
        jnp.asarray(keep),
        architecture,
        window,
        jax.random.key(seed),
    )
    first, second, count = np.asarray(first), np.asarray(second), int(count)
    assert (second[count:] == -1).all() and (second[:count] >= 0).all()
    return first[:count], second[:count]


BUILDERS = [
    pytest.param(numpy_examples, id="numpy"),
    pytest.param(jax_examples, id="jax", marks=requires_jax),
]


def corpus(rng, n=400, vocabulary=20):
    tokens = rng.integers(0, vocabulary, n).astype("int32")
    sentences = np.cumsum(rng.random(n) < 0.1).astype("int32")
    return tokens, sentences


def as_counter(first, second, architecture):
    if architecture == "skipgram":
        return collections.Counter(zip(first.tolist(), second.tolist()))
    return collections.Counter(zip(map(tuple, first.tolist()), second.tolist()))


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_window_one_gives_exactly_the_brute_force_examples(builder, architecture):
    # With window 1 the dynamic window is always 1; keep 1 keeps every token.
    tokens, sentences = corpus(np.random.default_rng(0))
    keep = np.ones(20, np.float32)
    first, second = builder(tokens, sentences, keep, architecture, 1, seed=1)
    assert as_counter(first, second, architecture) == brute_force(
        tokens, sentences, 1, architecture
    )
    again = builder(tokens, sentences, keep, architecture, 1, seed=2)
    assert as_counter(*again, architecture) == as_counter(first, second, architecture)
    assert not np.array_equal(again[1], second)  # another seed, another order


@pytest.mark.parametrize("builder", BUILDERS)
def test_dynamic_window_distribution(builder):
    # Reach b ~ uniform{1..w}: a pair at distance d survives with (w - d + 1) / w.
    n, window = 20000, 5
    positions = np.arange(n, dtype="int32")
    sentences = np.zeros(n, "int32")
    keep = np.ones(n, np.float32)
    centres, contexts = builder(positions, sentences, keep, "skipgram", window, 3)
    all_pairs = brute_force(positions[:50], sentences[:50], window, "skipgram")
    assert set(zip(centres.tolist(), contexts.tolist())) & set(all_pairs)
    distances = np.abs(contexts - centres)
    assert distances.min() >= 1 and distances.max() <= window
    counts = np.bincount(distances, minlength=window + 1)[1:]
    expected = np.array([(window - d + 1) / window for d in range(1, window + 1)])
    expected = expected / expected.sum() * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-3


@pytest.mark.parametrize("builder", BUILDERS)
def test_subsampling_follows_keep_probabilities(builder):
    counts = np.array([50000, 20000, 5000, 500, 50])
    tokens = np.repeat(np.arange(5), counts).astype("int32")
    # One sentence per token pair: each kept token is the centre of CBOW
    # examples only if its neighbour survives, so count skip-gram centres of
    # a corpus where every token's neighbour is a never-dropped word 5.
    tokens = np.stack([tokens, np.full_like(tokens, 5)], 1).reshape(-1)
    sentences = np.repeat(np.arange(len(tokens) // 2), 2).astype("int32")
    keep = np.append(keep_probabilities(counts, sample=1e-2), 1.0).astype("float32")
    centres, _ = builder(tokens, sentences, keep, "skipgram", 1, 4)
    kept = np.bincount(centres, minlength=6)[:5]
    for word in range(5):
        result = stats.binomtest(int(kept[word]), int(counts[word]), keep[word])
        assert result.pvalue > 1e-3, (word, kept[word], counts[word] * keep[word])
