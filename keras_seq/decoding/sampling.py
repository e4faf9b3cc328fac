"""Greedy search and temperature / top-k / top-p sampling."""

import keras
from keras import ops

from keras_seq.decoding import common
from keras_seq.utils import checks


def _decode(step_fn, initial_state, start_ids, end_id, max_length, choose):
    """One token per step with `choose(log_probs, step) -> tokens` until `end_id`."""
    start_ids = common.check_search_arguments(start_ids, end_id, max_length)
    common.check_state_batch(initial_state, start_ids)
    batch = ops.shape(start_ids)[0]
    rows = batch if isinstance(batch, int) else None

    def body(step, tokens, state, sequences, scores, lengths, done):
        logits, state = step_fn(tokens, state)
        log_probs = common.log_softmax(common.check_logits(logits, rows, end_id))
        token = ops.cast(choose(log_probs, step), "int32")
        token = ops.where(done, end_id, token)
        token_score = ops.take_along_axis(
            log_probs, ops.expand_dims(token, -1), axis=1
        )[:, 0]
        scores = scores + ops.where(done, 0.0, token_score)
        lengths = lengths + ops.cast(ops.logical_not(done), "int32")
        sequences = ops.where(
            ops.arange(max_length) == step, ops.expand_dims(token, -1), sequences
        )
        done = done | (token == end_id)
        return step + 1, token, state, sequences, scores, lengths, done

    def cond(step, *args):
        return ops.logical_and(step < max_length, ops.logical_not(ops.all(args[-1])))

    loop_vars = (
        ops.convert_to_tensor(0, "int32"),
        start_ids,
        initial_state,
        ops.full((batch, max_length), end_id, "int32"),
        ops.zeros((batch,), "float32"),
        ops.zeros((batch,), "int32"),
        ops.zeros((batch,), "bool"),
    )
    result = ops.while_loop(cond, body, loop_vars, maximum_iterations=max_length)
    return result[3], result[4], result[5]


def greedy_search(step_fn, initial_state, start_ids, end_id, max_length):
    """Takes the most probable token at every step until `end_id`.

    Args:
        step_fn: `(tokens (batch,) int32, state) -> (logits (batch, vocab),
            new_state)`.
        initial_state: Nested structure of tensors with a leading batch axis.
        start_ids: `(batch,)` int32 first input tokens.
        end_id: Integer id of the end token; a row stops after emitting it.
        max_length: Positive integer, most generated tokens (end included).

    Returns:
        `(sequences, scores, lengths)`: `(batch, max_length)` int32 padded
        with `end_id`, `(batch,)` float32 total log-probability, `(batch,)`
        int32 lengths (end token included).
    """
    return _decode(
        step_fn,
        initial_state,
        start_ids,
        end_id,
        max_length,
        lambda log_probs, step: ops.argmax(log_probs, axis=-1),
    )


def _check_filter(temperature, top_k, top_p):
    checks.check_number("temperature", temperature)
    if top_k is not None:
        checks.check_positive_int("top_k", top_k)
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(
            "Received an invalid value for argument `top_p`, expected a float "
            f"in (0, 1], got {top_p!r}."
        )


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None):
    """`logits / temperature` with all but the top-k / top-p tokens at -inf.

    `logits` `(batch, vocab)`. `top_p` keeps the smallest set of most
    probable tokens whose probability reaches `top_p` (nucleus sampling,
    Holtzman et al. 2020).
    """
    _check_filter(temperature, top_k, top_p)
    logits = ops.convert_to_tensor(logits)
    checks.check_rank("logits", logits.shape, 2, "(batch, vocab)")
    logits = ops.cast(logits, "float32") / temperature
    if top_k is not None:
        if logits.shape[-1] is not None:
            top_k = min(top_k, logits.shape[-1])  # more than all: all of them
        kth = ops.top_k(logits, top_k)[0][:, -1:]
        logits = ops.where(logits < kth, float("-inf"), logits)
    if top_p is not None:
        sorted_logits = ops.flip(ops.sort(logits, axis=-1), axis=-1)
        probs = ops.softmax(sorted_logits, axis=-1)
        # Mass of the tokens strictly more probable than each sorted token.
        before = ops.cumsum(probs, axis=-1) - probs
        kept = ops.where(before < top_p, sorted_logits, float("inf"))
        threshold = ops.min(kept, axis=-1, keepdims=True)
        logits = ops.where(logits < threshold, float("-inf"), logits)
    return logits


def sample(
    step_fn,
    initial_state,
    start_ids,
    end_id,
    max_length,
    temperature=1.0,
    top_k=None,
    top_p=None,
    seed=None,
):
    """Samples each token from the softmax of the logits until `end_id`.

    The logits are divided by `temperature` (below 1: sharper, above 1:
    flatter); `top_k` keeps the k most probable tokens, `top_p` the smallest
    set reaching that probability; the rest get probability 0. All uniform
    random numbers are drawn before the loop from `seed` (same seed, same
    samples) and a token is picked by inverting the cumulative distribution,
    so the loop itself is stateless and compiles anywhere.

    Args:
        step_fn: As `greedy_search`.
        initial_state: As `greedy_search`.
        start_ids: As `greedy_search`.
        end_id: As `greedy_search`.
        max_length: As `greedy_search`.
        temperature: Positive float. Default 1.
        top_k: Optional positive integer (above the vocabulary size: all
            tokens).
        top_p: Optional float in (0, 1].
        seed: Optional integer or `keras.random.SeedGenerator` (new numbers
            at every call, e.g. inside an exported model).

    Returns:
        `(sequences, scores, lengths)` as `greedy_search`; `scores` are the
        log-probabilities of the drawn tokens under the unfiltered softmax.
    """
    _check_filter(temperature, top_k, top_p)
    start_ids = common.check_search_arguments(start_ids, end_id, max_length)
    uniforms = keras.random.uniform(
        (max_length, ops.shape(start_ids)[0]), seed=seed, dtype="float32"
    )

    def choose(log_probs, step):
        logits = filter_logits(log_probs, temperature, top_k, top_p)
        cdf = ops.cumsum(ops.softmax(logits, axis=-1), axis=-1)
        u = ops.expand_dims(ops.take(uniforms, step, axis=0), -1)
        # The first token whose cumulative probability exceeds u.
        index = ops.sum(ops.cast(cdf <= u * cdf[:, -1:], "int32"), axis=-1)
        return ops.minimum(index, log_probs.shape[-1] - 1)

    return _decode(step_fn, initial_state, start_ids, end_id, max_length, choose)
