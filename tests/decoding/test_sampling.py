import keras
import numpy as np
import pytest
from scipy import stats

from keras_seq.decoding import filter_logits, greedy_search, sample
from tests.decoding import reference as ref

STARTS = np.array([1, 3, 4, 2], "int32")
LOGITS = np.array([0.3, 1.2, -0.5, 2.0, 0.0, 1.0], "float32")


def constant_step_fn(logits):
    row = keras.ops.convert_to_tensor(logits[None])

    def step_fn(tokens, state):
        return keras.ops.repeat(row, keras.ops.shape(tokens)[0], axis=0), state

    return step_fn


def numpy_probs(temperature=1.0, top_k=None, top_p=None):
    logits = LOGITS.astype(np.float64) / temperature
    order = np.argsort(-logits)
    keep = np.ones(len(logits), bool)
    if top_k is not None:
        keep[order[top_k:]] = False
    if top_p is not None:
        p = np.exp(logits - logits.max())
        p /= p.sum()
        before = np.cumsum(p[order]) - p[order]
        keep &= np.isin(np.arange(len(logits)), order[before < top_p])
    p = np.where(keep, np.exp(logits - logits.max()), 0.0)
    return p / p.sum()


def first_tokens(n, **kwargs):
    sequences, _, _ = sample(
        constant_step_fn(LOGITS),
        {},
        np.zeros((n,), "int32"),
        end_id=5,
        max_length=1,
        **kwargs,
    )
    return keras.ops.convert_to_numpy(sequences)[:, 0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"temperature": 0.5},
        {"temperature": 2.0},
        {"top_k": 3},
        {"top_p": 0.8},
        {"top_k": 4, "top_p": 0.9, "temperature": 1.5},
    ],
)
def test_frequencies_follow_softmax(kwargs):
    n = 20000
    tokens = first_tokens(n, seed=1234, **kwargs)
    expected = numpy_probs(**kwargs)
    counts = np.bincount(tokens, minlength=len(LOGITS))
    assert np.all(counts[expected == 0] == 0), "a filtered token was drawn"
    support = expected > 0
    _, p_value = stats.chisquare(counts[support], n * expected[support])
    assert p_value > 1e-3, (counts, n * expected)


def test_filter_logits_matches_numpy():
    for kwargs in ({"top_k": 2}, {"top_p": 0.5}, {"top_p": 1.0}, {"temperature": 3.0}):
        filtered = keras.ops.convert_to_numpy(filter_logits(LOGITS[None], **kwargs))[0]
        probs = np.exp(filtered - filtered.max())
        np.testing.assert_allclose(
            probs / probs.sum(), numpy_probs(**kwargs), atol=1e-6
        )


def test_top_k_one_equals_greedy_and_seed_reproduces():
    logits_table = ref.table(seed=5)
    step_fn = ref.table_step_fn(logits_table)
    state = ref.initial_state(len(STARTS))
    greedy = greedy_search(step_fn, state, STARTS, ref.END, ref.MAX_LENGTH)
    top1 = sample(step_fn, state, STARTS, ref.END, ref.MAX_LENGTH, top_k=1, seed=3)
    for a, b in zip(greedy, top1):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-6
        )
    runs = [
        keras.ops.convert_to_numpy(
            sample(
                step_fn,
                ref.initial_state(200),
                np.repeat(STARTS, 50),
                ref.END,
                ref.MAX_LENGTH,
                seed=seed,
            )[0]
        )
        for seed in (7, 7, 8)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_top_k_above_vocabulary_keeps_all_and_seed_generator_draws_anew():
    np.testing.assert_array_equal(
        first_tokens(500, seed=9, top_k=100), first_tokens(500, seed=9)
    )
    generator = keras.random.SeedGenerator(4)
    first, second = (first_tokens(500, seed=generator) for _ in range(2))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(
        first, first_tokens(500, seed=keras.random.SeedGenerator(4))
    )


def test_scores_and_lengths():
    # Sampled tokens' log-probabilities add up; the end token stops a row.
    logits_table = ref.table(seed=9)
    step_fn = ref.table_step_fn(logits_table)
    starts = np.repeat(STARTS, 5)
    sequences, scores, lengths = (
        keras.ops.convert_to_numpy(t)
        for t in sample(step_fn, ref.initial_state(len(starts)), starts, 0, 4, seed=1)
    )
    for row, start in enumerate(starts):
        previous, total = start, 0.0
        for step in range(lengths[row]):
            token = sequences[row, step]
            total += ref.log_softmax(logits_table[step, previous])[token]
            previous = token
        assert np.all(sequences[row, lengths[row] :] == 0)
        assert lengths[row] == 4 or sequences[row, lengths[row] - 1] == 0
        np.testing.assert_allclose(scores[row], total, atol=1e-5)


def test_bad_input():
    step_fn = constant_step_fn(LOGITS)
    starts = np.zeros((2,), "int32")
    for temperature in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(
            ValueError, match="`temperature`, expected a finite number > 0"
        ):
            sample(step_fn, {}, starts, 5, 3, temperature=temperature)
    with pytest.raises(ValueError, match=r"`end_id` .*\(0 to 5\), got 6"):
        greedy_search(step_fn, {}, starts, 6, 3)
    with pytest.raises(ValueError, match="`initial_state` .* batch axis of 2"):
        sample(step_fn, {"h": np.zeros((3, 4), "float32")}, starts, 5, 3)
    with pytest.raises(
        ValueError, match=r"`logits` must have rank 2 .*\(batch, vocab\)"
    ):
        filter_logits(LOGITS, top_k=2)
    with pytest.raises(ValueError, match="`top_k`"):
        sample(step_fn, {}, starts, 5, 3, top_k=0)
    with pytest.raises(ValueError, match="`top_p`"):
        sample(step_fn, {}, starts, 5, 3, top_p=1.5)
    with pytest.raises(ValueError, match="`max_length`"):
        greedy_search(step_fn, {}, starts, 5, 0)
    with pytest.raises(ValueError, match="`end_id`"):
        greedy_search(step_fn, {}, starts, -1, 3)
    with pytest.raises(ValueError, match="integer token ids"):
        greedy_search(step_fn, {}, starts.astype("float32"), 5, 3)
