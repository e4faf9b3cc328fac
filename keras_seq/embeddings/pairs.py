"""Training examples for word2vec, vectorised (no Python per token).

A corpus is a flat int tensor of word ids plus, for each token, the id of its
sentence (`sentence_ids`): windows never cross a sentence. The functions build
the examples with TensorFlow ops (for the tf.data pipeline);
`epoch_examples_numpy` builds the same examples with NumPy for the backends
that train without TensorFlow (JAX on a GPU).
"""

import numpy as np


def keep_probabilities(counts, sample):
    """word2vec's frequent-word subsampling: probability of keeping each word.

    With `f = count / total` and threshold `t = sample`, a word is kept with
    probability `(sqrt(f / t) + 1) * t / f` (capped at 1), as word2vec.c and
    gensim do; `sample=0` keeps every word.
    """
    counts = _checked_counts(counts)
    if not sample:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    # A word counted 0 times (an `<unk>` that stands for nothing) never
    # occurs: its probability is 1, not 0 / 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(counts / threshold) + 1) * threshold / counts
    return np.where(counts > 0, np.minimum(1.0, keep), 1.0)


def _checked_counts(counts):
    """`counts` as float64, refused unless a 1-D array of finite counts >= 0
    with a positive total."""
    counts = np.asarray(counts, np.float64)
    if (
        counts.ndim != 1
        or not np.isfinite(counts).all()
        or (counts < 0).any()
        or not counts.sum() > 0
    ):
        raise ValueError(
            "Expected `counts`: a 1-D array of word counts >= 0 with a positive "
            f"total, got {np.array2string(counts, threshold=8)}."
        )
    return counts


def _uniform(shape, seed, minval=0, maxval=None, dtype="float32"):
    """`seed`: None (unseeded) or a `(2,)` int seed for a stateless draw."""
    import tensorflow as tf

    if seed is None:
        return tf.random.uniform(shape, minval, maxval, dtype=dtype)
    return tf.random.stateless_uniform(shape, seed, minval, maxval, dtype=dtype)


def subsample(token_ids, sentence_ids, keep_probability, seed=None):
    """Drops each token with probability `1 - keep_probability[token]`.

    `seed`: None or a `(2,)` int stateless seed (same seed, same draw).
    """
    import tensorflow as tf

    keep = tf.gather(tf.cast(keep_probability, tf.float32), token_ids)
    draw = _uniform(tf.shape(token_ids), seed)
    mask = draw < keep
    return tf.boolean_mask(token_ids, mask), tf.boolean_mask(sentence_ids, mask)


def _windows(token_ids, sentence_ids, window, dynamic, seed):
    """Context positions `(n, 2 * window)` and which of them are real."""
    import tensorflow as tf

    n = tf.shape(token_ids)[0]
    offsets = tf.constant(
        [d for d in range(-window, window + 1) if d != 0], dtype=tf.int32
    )
    positions = tf.range(n)[:, None] + offsets[None, :]
    inside = (positions >= 0) & (positions < n)
    clipped = tf.clip_by_value(positions, 0, tf.maximum(n - 1, 0))
    same_sentence = tf.gather(sentence_ids, clipped) == sentence_ids[:, None]
    valid = inside & same_sentence
    if dynamic:
        # word2vec's reduced window: each centre uses b ~ uniform{1..window}.
        reach = _uniform((n, 1), seed, 1, window + 1, dtype="int32")
        valid &= tf.abs(offsets)[None, :] <= reach
    return clipped, valid


def skipgram_pairs(token_ids, sentence_ids, window, dynamic=True, seed=None):
    """(centre, context) id pairs of every token within its window.

    Args:
        token_ids: `(n,)` int word ids.
        sentence_ids: `(n,)` int sentence of each token.
        window: Positive integer, the largest distance.
        dynamic: Shrink each centre's window to `b ~ uniform{1..window}`.
        seed: None or a `(2,)` int stateless seed of the window draws.

    Returns:
        `(centres, contexts)`, int32 `(pairs,)` each, in corpus order.
    """
    import tensorflow as tf

    token_ids = tf.cast(token_ids, tf.int32)
    sentence_ids = tf.cast(sentence_ids, tf.int32)
    positions, valid = _windows(token_ids, sentence_ids, window, dynamic, seed)
    centres = tf.broadcast_to(token_ids[:, None], tf.shape(positions))
    contexts = tf.gather(token_ids, positions)
    return tf.boolean_mask(centres, valid), tf.boolean_mask(contexts, valid)


def cbow_examples(token_ids, sentence_ids, window, pad_id, dynamic=True, seed=None):
    """(context window, centre) examples: `(n, 2 * window)` contexts padded with `pad_id`.

    Tokens whose window holds no context word (one-word sentences) are left out.
    """
    import tensorflow as tf

    token_ids = tf.cast(token_ids, tf.int32)
    sentence_ids = tf.cast(sentence_ids, tf.int32)
    positions, valid = _windows(token_ids, sentence_ids, window, dynamic, seed)
    contexts = tf.where(valid, tf.gather(token_ids, positions), pad_id)
    has_context = tf.reduce_any(valid, axis=1)
    return tf.boolean_mask(contexts, has_context), tf.boolean_mask(
        token_ids, has_context
    )


def unigram_table(counts, power=0.75):
    """Log-probabilities of drawing each word as a negative: `count**power`."""
    weights = _checked_counts(counts) ** power
    with np.errstate(divide="ignore"):  # a word counted 0 times: log 0 = -inf
        return np.log(weights / weights.sum()).astype(np.float32)


def _windows_numpy(token_ids, sentence_ids, window, rng):
    """NumPy `_windows` with dynamic windows drawn from the Generator `rng`."""
    n = len(token_ids)
    offsets = np.array([d for d in range(-window, window + 1) if d], np.int32)
    positions = np.arange(n, dtype=np.int32)[:, None] + offsets
    valid = (positions >= 0) & (positions < n)
    np.clip(positions, 0, max(n - 1, 0), out=positions)
    valid &= sentence_ids[positions] == sentence_ids[:, None]
    valid &= np.abs(offsets) <= rng.integers(1, window + 1, (n, 1), np.int32)
    return positions, valid


def epoch_examples_numpy(token_ids, sentence_ids, keep, architecture, window, rng):
    """One epoch's shuffled examples, in NumPy: subsampling, dynamic windows.

    The same examples as `subsample` followed by `skipgram_pairs` or
    `cbow_examples` (with `pad_id=-1`), drawn from the NumPy Generator `rng`
    instead of TensorFlow's stateless seeds.

    Returns:
        Skip-gram: `(centres (pairs,), contexts (pairs,))`; CBOW: `(contexts
        (examples, 2 * window), centres (examples,))`; int32, shuffled.
    """
    token_ids = np.asarray(token_ids, np.int32)
    sentence_ids = np.asarray(sentence_ids, np.int32)
    kept = rng.random(len(token_ids), np.float32) < keep[token_ids]
    token_ids, sentence_ids = token_ids[kept], sentence_ids[kept]
    positions, valid = _windows_numpy(token_ids, sentence_ids, window, rng)
    if architecture == "skipgram":
        rows, columns = np.nonzero(valid)
        first, second = token_ids[rows], token_ids[positions[rows, columns]]
    else:
        has_context = valid.any(axis=1)
        first = np.where(valid, token_ids[positions], -1)[has_context]
        second = token_ids[has_context]
    order = rng.permutation(len(second))
    return first[order], second[order]


def epoch_examples_jax(token_ids, sentence_ids, keep, architecture, window, key):
    """One epoch's shuffled examples, built on the device with JAX (jit-able).

    The examples of `epoch_examples_numpy` with fixed shapes: every
    (token, window slot) pair is a candidate, and the real examples are
    moved to the front in random order.

    Args:
        token_ids: `(n,)` int array.
        sentence_ids: `(n,)` int array, the sentence of each token.
        keep: `(vocabulary,)` keep probabilities (`keep_probabilities`).
        architecture: `"skipgram"` or `"cbow"`.
        window: Largest window (dynamic windows are drawn per token).
        key: A JAX random key.

    Returns:
        `(first, second, count)`: as `epoch_examples_numpy`, with
        `n * 2 * window` (skip-gram) or `n` (CBOW) rows of which the first
        `count` are real; the rest have target (`second`) -1.
    """
    import jax
    import jax.numpy as jnp

    n = token_ids.shape[0]
    keep_key, reach_key, order_key = jax.random.split(key, 3)
    kept = jax.random.uniform(keep_key, (n,)) < keep[token_ids]
    # Subsampling without a data-dependent shape: kept tokens first, in order;
    # the dropped ones get sentence -1 and never form an example.
    order = jnp.argsort(~kept, stable=True)
    tokens = token_ids[order]
    sentences = jnp.where(kept[order], sentence_ids[order], -1)
    offsets = jnp.array([d for d in range(-window, window + 1) if d], jnp.int32)
    positions = jnp.arange(n, dtype=jnp.int32)[:, None] + offsets
    valid = (positions >= 0) & (positions < n)
    positions = jnp.clip(positions, 0, n - 1)
    valid &= sentences[positions] == sentences[:, None]
    valid &= sentences[:, None] >= 0
    valid &= jnp.abs(offsets) <= jax.random.randint(
        reach_key, (n, 1), 1, window + 1, jnp.int32
    )
    if architecture == "skipgram":
        first = jnp.broadcast_to(tokens[:, None], positions.shape).reshape(-1)
        second = tokens[positions].reshape(-1)
        valid = valid.reshape(-1)
    else:
        first = jnp.where(valid, tokens[positions], -1)
        second = tokens
        valid = valid.any(axis=1)
    shuffle = jnp.where(valid, jax.random.uniform(order_key, valid.shape), 2.0)
    order = jnp.argsort(shuffle)
    second = jnp.where(valid[order], second[order], -1)
    return first[order], second, valid.sum()
