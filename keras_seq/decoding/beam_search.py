"""Beam search with length and coverage penalties, exact early stopping, n-best."""

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
    length_penalty_type="power",
    coverage_penalty=0.0,
    source_mask=None,
):
    """Beam search over a step function; n-best with length-normalised scores.

    Every live hypothesis ("beam") is extended by every token; the `beam_width`
    best continuations by cumulative log-probability `S` stay live. A
    continuation that emits `end_id` leaves the beam for the finished set with
    the score `S / lp(length) + cp` (`length` counts the generated tokens,
    the end token included); hypotheses still live after `max_length`
    tokens finish with `length = max_length`. The length penalty `lp` is
    `length**alpha` (`length_penalty_type="power"`) or GNMT's
    `((5 + length) / 6)**alpha` (`"gnmt"`, Wu et al. 2016, eq. 14); the
    coverage penalty `cp` is 0, or with `coverage_penalty=beta > 0` GNMT's
    `beta * sum_i log(min(sum_j a_ij, 1))` over the real source positions
    `i` (`source_mask`), `a_ij` the attention weight of target step `j` on
    source position `i`, which `step_fn` then returns as a third value. The finished set keeps the
    `num_return` best. A row of the batch stops early only when that cannot
    change its result: log-probabilities only fall, so a live hypothesis with
    score `S` can finish no better than `S / max_length**length_penalty`; once
    that bound for the row's best live hypothesis is below its `num_return`-th
    finished score, the row is done (both penalties keep that bound: `lp`
    grows with the length and `cp <= 0`). Fixed shapes and one `keras.ops.while_loop`:
    the search compiles under `tf.function(jit_compile=True)`, runs inside a
    SavedModel and under `jax.jit`.

    Args:
        step_fn: `(tokens, state) -> (logits, new_state)`, or `(logits,
            new_state, attention)` with `attention` `(batch * beam_width,
            source_length)` the weights this step put on the source (needed
            for `coverage_penalty`, ignored otherwise); `tokens` is
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
        length_penalty_type: `"power"` (default, `length**alpha`) or
            `"gnmt"` (`((5 + length) / 6)**alpha`).
        coverage_penalty: `beta >= 0`, GNMT's coverage weight (0.2 in Wu et
            al.); 0 (default) turns it off.
        source_mask: `(batch, source_length)` boolean, True at real source
            positions; required with `coverage_penalty > 0` (a padded
            position never attended would give `log 0`).

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
    checks.check_choice("length_penalty_type", length_penalty_type, ("power", "gnmt"))
    checks.check_number("coverage_penalty", coverage_penalty, inclusive=True)
    start_ids = common.check_search_arguments(start_ids, end_id, max_length)
    common.check_state_batch(initial_state, start_ids)
    alpha, beta = float(length_penalty), float(coverage_penalty)
    width, length, best_n = beam_width, max_length, num_return
    batch = ops.shape(start_ids)[0]
    rows = batch * width if isinstance(batch, int) else None
    source_mask = _check_source_mask(source_mask, beta, start_ids)

    def normaliser(steps):
        steps = ops.cast(steps, "float32")
        if length_penalty_type == "gnmt":
            return ops.power((5.0 + steps) / 6.0, alpha)
        return ops.power(steps, alpha)

    def coverage_score(coverage):
        """GNMT's cp of `(batch, beams, source)` summed attention: `(batch, beams)`."""
        if not beta:
            return 0.0
        logs = ops.log(ops.minimum(coverage, 1.0))
        return beta * ops.sum(ops.where(source_mask[:, None, :], logs, 0.0), axis=-1)

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
        coverage,
        fin_seqs,
        fin_scores,
        fin_lengths,
        done,
    ):
        logits, new_state, attention = _step_outputs(step_fn(tokens, state), beta)
        logits = common.check_logits(logits, rows, end_id)
        vocab = logits.shape[-1]
        log_probs = ops.reshape(common.log_softmax(logits), (batch, width, vocab))
        candidates = ops.expand_dims(live_scores, -1) + log_probs  # (B, W, V)
        is_end = ops.arange(vocab) == end_id
        if beta:
            attention = _check_attention(attention, rows, source_mask)
            coverage = coverage + ops.reshape(attention, ops.shape(coverage))

        # Hypotheses that end now: length step + 1.
        position = ops.arange(length) == step  # (L,)
        end_seqs = ops.where(position, end_id, live_seqs)
        end_scores = candidates[:, :, end_id] / normaliser(step + 1) + coverage_score(
            coverage
        )

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
        if beta:
            coverage = gather_beams(coverage, parent)

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
            coverage,
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
        # Each live hypothesis's attention summed over its steps (coverage).
        ops.zeros((batch, width, ops.shape(source_mask)[1] if beta else 1), "float32"),
        ops.full((batch, best_n, length), end_id, "int32"),
        ops.full((batch, best_n), _NEG_INF, "float32"),
        ops.zeros((batch, best_n), "int32"),
        ops.zeros((batch,), "bool"),
    )
    result = ops.while_loop(cond, body, loop_vars, maximum_iterations=length)
    live_scores, live_seqs, coverage = result[3], result[4], result[5]
    # Hypotheses still live finish with length `length`. (In a row that
    # stopped early they cannot enter its n-best: their score is below the
    # bound that stopped it.)
    final = merge(
        result[6:9],
        (
            live_seqs,
            live_scores / normaliser(length) + coverage_score(coverage),
            length,
        ),
        ops.zeros_like(result[9]),
    )
    return final


def _check_source_mask(source_mask, beta, start_ids):
    """`source_mask` as a boolean tensor; required for a coverage penalty."""
    if not beta:
        return None
    if source_mask is None:
        raise ValueError(
            "Argument `source_mask` is required with `coverage_penalty` > 0: "
            "pass a (batch, source_length) boolean, True at real source "
            "positions, got None."
        )
    source_mask = ops.convert_to_tensor(source_mask)
    if len(source_mask.shape) != 2 or (
        isinstance(start_ids.shape[0], int)
        and isinstance(source_mask.shape[0], int)
        and source_mask.shape[0] != start_ids.shape[0]
    ):
        raise ValueError(
            "Argument `source_mask` must have shape (batch, source_length) with "
            f"batch {start_ids.shape[0]} (that of `start_ids`), got shape "
            f"{tuple(source_mask.shape)}."
        )
    return ops.cast(source_mask, "bool")


def _step_outputs(outputs, beta):
    """`(logits, new_state, attention or None)` of a step function's outputs."""
    if isinstance(outputs, (list, tuple)) and len(outputs) == 3:
        return tuple(outputs)
    if isinstance(outputs, (list, tuple)) and len(outputs) == 2:
        if beta:
            raise ValueError(
                "`coverage_penalty` > 0 needs the attention weights: `step_fn` "
                "must return `(logits, new_state, attention)` with attention of "
                "shape (batch * beam_width, source_length), got 2 values."
            )
        return (*outputs, None)
    raise ValueError(
        "`step_fn` must return `(logits, new_state)` or `(logits, new_state, "
        f"attention)`, got {type(outputs).__name__}"
        + (f" of {len(outputs)} values." if isinstance(outputs, (list, tuple)) else ".")
    )


def _check_attention(attention, rows, source_mask):
    """The step's attention must be `(batch * beam_width, source_length)`."""
    shape = tuple(attention.shape)
    expected_rows = rows if isinstance(rows, int) else None
    source_length = source_mask.shape[1]
    if (
        len(shape) != 2
        or (expected_rows is not None and shape[0] not in (None, expected_rows))
        or (isinstance(source_length, int) and shape[1] not in (None, source_length))
    ):
        raise ValueError(
            "`step_fn`'s attention weights must have shape (batch * beam_width, "
            f"source_length) = ({expected_rows or 'batch * beam_width'}, "
            f"{source_length}) (source_length from `source_mask`), got shape "
            f"{shape}."
        )
    return ops.cast(attention, "float32")
