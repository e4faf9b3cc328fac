"""Step functions and plain-Python references for the decoder tests."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

VOCAB, END, MAX_LENGTH = 5, 0, 4


def table(seed=0, vocab=VOCAB, steps=MAX_LENGTH, scale=2.0):
    """Fixed random logits indexed by [step, previous token, next token]."""
    return np.random.default_rng(seed).normal(scale=scale, size=(steps, vocab, vocab))


def table_step_fn(logits_table):
    """A step function whose logits depend on the previous token and the step."""
    steps, vocab, _ = logits_table.shape
    flat = ops.convert_to_tensor(logits_table.reshape(steps * vocab, vocab), "float32")

    def step_fn(tokens, state):
        index = state["step"] * vocab + ops.cast(tokens, "int32")
        return ops.take(flat, index, axis=0), {"step": state["step"] + 1}

    return step_fn


def initial_state(batch):
    return {"step": np.zeros((batch,), "int32")}


def log_softmax(x):
    x = np.asarray(x, np.float64)
    return (
        x
        - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))
        - x.max(-1, keepdims=True)
    )


def padded(tokens, length=MAX_LENGTH, end=END):
    return list(tokens) + [end] * (length - len(tokens))


def length_penalty(size, alpha, kind="power"):
    """`size**alpha`, or GNMT's `((5 + size) / 6)**alpha` (Wu et al. 2016, eq. 14)."""
    return ((5 + size) / 6) ** alpha if kind == "gnmt" else size**alpha


def attention_step_fn(logits_table, attention_table):
    """`table_step_fn` that also returns attention weights over the source.

    The weights of a step are the softmax of `attention_table[step, previous
    token]` over the real source positions (`state["mask"]`), 0 on padding.
    """
    steps, vocab, _ = logits_table.shape
    source = attention_table.shape[-1]
    tokens_step_fn = table_step_fn(logits_table)
    flat = ops.convert_to_tensor(
        attention_table.reshape(steps * vocab, source), "float32"
    )

    def step_fn(tokens, state):
        logits, new_state = tokens_step_fn(tokens, state)
        index = state["step"] * vocab + ops.cast(tokens, "int32")
        scores = ops.where(state["mask"], ops.take(flat, index, axis=0), -1e9)
        weights = ops.where(state["mask"], ops.softmax(scores, axis=-1), 0.0)
        return logits, {**new_state, "mask": state["mask"]}, weights

    return step_fn


def attention_weights(attention_table, step, previous, mask):
    scores = np.where(
        mask, np.asarray(attention_table[step, previous], np.float64), -np.inf
    )
    exp = np.where(mask, np.exp(scores - scores[mask].max()), 0.0)
    return exp / exp.sum()


def coverage_penalty(coverage, mask, beta):
    """GNMT: beta * sum over real source positions of log(min(coverage, 1))."""
    if not beta:
        return 0.0
    return beta * np.sum(np.log(np.minimum(coverage[mask], 1.0)))


def hypothesis_score(
    tokens, logits_table, start, alpha, kind="power", attention=None, beta=0.0
):
    """`sum(log p) / lp(length) + cp` of one finished hypothesis.

    `attention`: `(attention_table, mask)` for the coverage penalty.
    """
    score, previous = 0.0, start
    coverage = None
    for step, token in enumerate(tokens):
        score += log_softmax(logits_table[step, previous])[token]
        if attention is not None:
            weights = attention_weights(attention[0], step, previous, attention[1])
            coverage = weights if coverage is None else coverage + weights
        previous = token
    cp = (
        coverage_penalty(coverage, attention[1], beta) if attention is not None else 0.0
    )
    return score / length_penalty(len(tokens), alpha, kind) + cp


def brute_force(
    logits_table,
    start,
    alpha,
    n,
    end=END,
    length=MAX_LENGTH,
    kind="power",
    attention=None,
    beta=0.0,
):
    """All finished hypotheses ranked by sum(log p) / lp(length) + cp."""
    vocab = logits_table.shape[1]
    words = [v for v in range(vocab) if v != end]
    results = []
    for size in range(1, length + 1):
        for body in itertools.product(words, repeat=size - 1):
            for last in [end] if size < length else [end, *words]:
                tokens = [*body, last]
                score = hypothesis_score(
                    tokens, logits_table, start, alpha, kind, attention, beta
                )
                results.append((score, padded(tokens, length, end), size))
    results.sort(key=lambda r: -r[0])
    return results[:n]


def python_beam_search(
    logits_table, start, beam_width, alpha, n, end=END, length=MAX_LENGTH
):
    """A plain Python beam search with the documented rules."""
    vocab = logits_table.shape[1]
    live = [(0.0, [])]
    finished = []
    for step in range(length):
        candidates = []
        for score, tokens in live:
            previous = tokens[-1] if tokens else start
            log_p = log_softmax(logits_table[step, previous])
            candidates += [(score + log_p[v], [*tokens, v]) for v in range(vocab)]
        finished += [
            (s / (step + 1) ** alpha, padded(t, length, end), step + 1)
            for s, t in candidates
            if t[-1] == end
        ]
        live = sorted((c for c in candidates if c[1][-1] != end), key=lambda c: -c[0])[
            :beam_width
        ]
        if step == length - 1:
            finished += [(s / length**alpha, t, length) for s, t in live]
        finished = sorted(finished, key=lambda r: -r[0])[:n]
        if len(finished) == n and live and live[0][0] / length**alpha < finished[-1][0]:
            break
    return finished


def compiled(function):
    """`function` under XLA (TensorFlow) or `jax.jit`; skips on other backends."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True)
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    pytest.skip("no compiler for this backend")
