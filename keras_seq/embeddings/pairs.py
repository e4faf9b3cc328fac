"""Training examples for word2vec, built with TensorFlow ops (no Python per token).

A corpus is a flat int tensor of word ids plus, for each token, the id of its
sentence (`sentence_ids`): windows never cross a sentence.
"""

import numpy as np
import tensorflow as tf


def keep_probabilities(counts, sample):
    """word2vec's frequent-word subsampling: probability of keeping each word.

    With `f = count / total` and threshold `t = sample`, a word is kept with
    probability `(sqrt(f / t) + 1) * t / f` (capped at 1), as word2vec.c and
    gensim do; `sample=0` keeps every word.
    """
    counts = np.asarray(counts, np.float64)
    if not sample:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1) * threshold / counts)


def _uniform(shape, seed, minval=0, maxval=None, dtype=tf.float32):
    """`seed`: None (unseeded) or a `(2,)` int seed for a stateless draw."""
    if seed is None:
        return tf.random.uniform(shape, minval, maxval, dtype=dtype)
    return tf.random.stateless_uniform(shape, seed, minval, maxval, dtype=dtype)


def subsample(token_ids, sentence_ids, keep_probability, seed=None):
    """Drops each token with probability `1 - keep_probability[token]`.

    `seed`: None or a `(2,)` int stateless seed (same seed, same draw).
    """
    keep = tf.gather(tf.cast(keep_probability, tf.float32), token_ids)
    draw = _uniform(tf.shape(token_ids), seed)
    mask = draw < keep
    return tf.boolean_mask(token_ids, mask), tf.boolean_mask(sentence_ids, mask)


def _windows(token_ids, sentence_ids, window, dynamic, seed):
    """Context positions `(n, 2 * window)` and which of them are real."""
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
        reach = _uniform((n, 1), seed, 1, window + 1, dtype=tf.int32)
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
    weights = np.asarray(counts, np.float64) ** power
    return np.log(weights / weights.sum()).astype(np.float32)
