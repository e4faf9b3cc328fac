"""Beam search with length normalisation, exact early stopping, n-best."""

from keras import ops, tree

from keras_seq.decoding import common
from keras_seq.utils import checks

_NEG_INF = float("-inf")


def beam_search(
    step_fn,
    initial_state,
    start_ids,
    end_id,
    beam_width,
    max_length,
    length_penalty=0.0,
    num_return=1,
):
    """Beam search over a step function; n-best with length-normalised scores.

    Every live hypothesis ("beam") is extended by every token; the `beam_width`
    best continuations by cumulative log-probability `S` stay live. A
    continuation that emits `end_id` leaves the beam for the finished set with
    the score `S / length**length_penalty` (`length` counts the generated
    tokens, the end token included); hypotheses still live after `max_length`
    tokens finish with `length = max_length`. The finished set keeps the
    `num_return` best. A row of the batch stops early only when that cannot
    change its result: log-probabilities only fall, so a live hypothesis with
    score `S` can finish no better than `S / max_length**length_penalty`; once
    that bound for the row's best live hypothesis is below its `num_return`-th
    finished score, the row is done. Fixed shapes and one `keras.ops.while_loop`:
    the search compiles under `tf.function(jit_compile=True)`, runs inside a
    SavedModel and under `jax.jit`.

    Args:
        step_fn: `(tokens, state) -> (logits, new_state)`; `tokens` is
            `(batch * beam_width,)` int32 (the last token of each hypothesis,
            rows `b * beam_width .. (b + 1) * beam_width - 1` belong to example
            `b`), `logits` `(batch * beam_width, vocab)`. `state` is nested.
        initial_state: Nested structure of tensors with a leading batch axis;
            each example is repeated `beam_width` times for you.
        start_ids: `(batch,)` int32, the first input token of each example.
        end_id: Integer id of the end token.
        beam_width: Positive integer.
        max_length: Positive integer, most generated tokens (end included).
        length_penalty: `alpha >= 0`; 0 ranks by total log-probability, 1 by
            the mean per token; ~0.7 is the usual compromise (Wu et al. 2016).
        num_return: How many hypotheses per example, `<= beam_width`.

    Returns:
        `(sequences, scores, lengths)`: `(batch, num_return, max_length)`
        int32 tokens padded with `end_id`, `(batch, num_return)` float32
        normalised scores and `(batch, num_return)` int32 lengths, best first.
        A hypothesis that cannot exist (fewer candidates than `num_return`)
        has score `-inf`.

    Example:

    >>> import numpy as np
    >>> from keras_seq.decoding import beam_search
    >>> logits = np.log(np.array([[0.1, 0.6, 0.3]], "float32"))
    >>> def step_fn(tokens, state):
    ...     return np.repeat(logits, tokens.shape[0], 0), state
    >>> sequences, scores, lengths = beam_search(
    ...     step_fn, {}, np.array([1]), end_id=0, beam_width=2, max_length=3)
    >>> tuple(sequences.shape), tuple(lengths.shape)
    ((1, 1, 3), (1, 1))
    """
    checks.check_positive_int("beam_width", beam_width)
    checks.check_positive_int("num_return", num_return)
    if num_return > beam_width:
        raise ValueError(
            f"`num_return` ({num_return}) must be <= `beam_width` ({beam_width})."
        )
    checks.check_number("length_penalty", length_penalty, inclusive=True)
    start_ids = common.check_search_arguments(start_ids, end_id, max_length)
    common.check_state_batch(initial_state, start_ids)
    alpha = float(length_penalty)
    width, length, best_n = beam_width, max_length, num_return
    batch = ops.shape(start_ids)[0]
    rows = batch * width if isinstance(batch, int) else None

    def normaliser(steps):
        return ops.power(ops.cast(steps, "float32"), alpha)

    def gather_beams(x, index):
        """`x` `(batch, beams, ...)`, `index` `(batch, k)` -> `(batch, k, ...)`."""
        extra = len(x.shape) - 2
        index = ops.reshape(index, (*ops.shape(index), *([1] * extra)))
        return ops.take_along_axis(
            x,
            ops.broadcast_to(index, (*ops.shape(index)[:2], *ops.shape(x)[2:])),
            axis=1,
        )

    def merge(finished, candidates, frozen):
        """The `best_n` best of the finished set and new finished candidates."""
        fin_seqs, fin_scores, fin_lengths = finished
        seqs, scores, size = candidates
        pool_scores = ops.concatenate([fin_scores, scores], axis=1)
        pool_seqs = ops.concatenate([fin_seqs, seqs], axis=1)
        pool_lengths = ops.concatenate(
            [fin_lengths, ops.ones_like(scores, "int32") * size], axis=1
        )
        best_scores, best_index = ops.top_k(pool_scores, best_n)
        best_lengths = ops.take_along_axis(pool_lengths, best_index, axis=1)
        keep = ops.expand_dims(frozen, -1)
        return (
            ops.where(
                ops.expand_dims(keep, -1), fin_seqs, gather_beams(pool_seqs, best_index)
            ),
            ops.where(keep, fin_scores, best_scores),
            ops.where(keep, fin_lengths, best_lengths),
        )

    def body(
        step,
        tokens,
        state,
        live_scores,
        live_seqs,
        fin_seqs,
        fin_scores,
        fin_lengths,
        done,
    ):
        logits, new_state = step_fn(tokens, state)
        logits = common.check_logits(logits, rows, end_id)
        vocab = logits.shape[-1]
        log_probs = ops.reshape(common.log_softmax(logits), (batch, width, vocab))
        candidates = ops.expand_dims(live_scores, -1) + log_probs  # (B, W, V)
        is_end = ops.arange(vocab) == end_id

        # Hypotheses that end now: length step + 1.
        position = ops.arange(length) == step  # (L,)
        end_seqs = ops.where(position, end_id, live_seqs)
        end_scores = candidates[:, :, end_id] / normaliser(step + 1)

        # The best `width` continuations (never the end token).
        continuing = ops.where(is_end, _NEG_INF, candidates)
        # Unsorted: a sorted top-k over `width * vocab` sorts the whole row on
        # XLA CPU (~20x slower for an 8k vocabulary).
        top_scores, top_index = ops.top_k(
            ops.reshape(continuing, (batch, -1)), width, sorted=False
        )
        parent = top_index // vocab
        token = ops.cast(top_index % vocab, "int32")
        new_seqs = gather_beams(live_seqs, parent)
        new_seqs = ops.where(position, ops.expand_dims(token, -1), new_seqs)

        fin_seqs, fin_scores, fin_lengths = merge(
            (fin_seqs, fin_scores, fin_lengths),
            (end_seqs, end_scores, step + 1),
            done,
        )

        # Exact early stop: the best live hypothesis cannot reach the n-th best.
        bound = ops.max(top_scores, axis=1) / normaliser(length)
        done = done | (bound < fin_scores[:, best_n - 1])

        flat_parent = ops.reshape(
            parent + ops.expand_dims(ops.arange(batch) * width, -1), (-1,)
        )
        new_state = tree.map_structure(
            lambda x: ops.take(x, flat_parent, axis=0), new_state
        )
        return (
            step + 1,
            ops.reshape(token, (-1,)),
            new_state,
            top_scores,
            new_seqs,
            fin_seqs,
            fin_scores,
            fin_lengths,
            done,
        )

    def cond(step, *args):
        return ops.logical_and(step < length, ops.logical_not(ops.all(args[-1])))

    live_scores = ops.where(ops.arange(width) == 0, 0.0, _NEG_INF) * ops.ones(
        (batch, 1), "float32"
    )
    loop_vars = (
        ops.convert_to_tensor(0, "int32"),
        ops.repeat(start_ids, width, axis=0),
        common.repeat_batch(initial_state, width),
        ops.cast(live_scores, "float32"),
        ops.full((batch, width, length), end_id, "int32"),
        ops.full((batch, best_n, length), end_id, "int32"),
        ops.full((batch, best_n), _NEG_INF, "float32"),
        ops.zeros((batch, best_n), "int32"),
        ops.zeros((batch,), "bool"),
    )
    result = ops.while_loop(cond, body, loop_vars, maximum_iterations=length)
    live_scores, live_seqs = result[3], result[4]
    # Hypotheses still live finish with length `length`. (In a row that
    # stopped early they cannot enter its n-best: their score is below the
    # bound that stopped it.)
    final = merge(
        result[5:8],
        (live_seqs, live_scores / normaliser(length), length),
        ops.zeros_like(result[8]),
    )
    return final
