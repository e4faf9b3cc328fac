"""GNMT's length and coverage penalties (Wu et al. 2016, eq. 14) against brute force."""

import keras
import numpy as np
import pytest

from keras_seq.decoding import beam_search
from tests.decoding import reference as ref
from tests.decoding.test_beam_search import STARTS, assert_matches

SOURCE = 3
# Row 0 sees all three source positions, row 1 two, row 2 one.
SOURCE_MASK = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]], bool)


def attention_table(seed):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=2.0, size=(ref.MAX_LENGTH, ref.VOCAB, SOURCE))


def run(logits_table, beam_width, alpha, n, kind="power", attention=None, beta=0.0):
    if attention is None:
        step_fn, state = ref.table_step_fn(logits_table), ref.initial_state(len(STARTS))
    else:
        step_fn = ref.attention_step_fn(logits_table, attention)
        state = {**ref.initial_state(len(STARTS)), "mask": SOURCE_MASK}
    sequences, scores, lengths = beam_search(
        step_fn,
        state,
        STARTS,
        ref.END,
        beam_width,
        ref.MAX_LENGTH,
        length_penalty=alpha,
        num_return=n,
        length_penalty_type=kind,
        coverage_penalty=beta,
        source_mask=SOURCE_MASK if beta else None,
    )
    return [keras.ops.convert_to_numpy(t) for t in (sequences, scores, lengths)]


@pytest.mark.parametrize("alpha", [0.6, 1.0, 2.0])
@pytest.mark.parametrize("n", [1, 3])
def test_gnmt_length_penalty_wide_beam_is_exhaustive(alpha, n):
    logits_table = ref.table(seed=20 + n)
    result = run(logits_table, beam_width=256, alpha=alpha, n=n, kind="gnmt")
    for row, start in enumerate(STARTS):
        expected = ref.brute_force(logits_table, start, alpha, n, kind="gnmt")
        assert_matches(result, expected, row)


def test_gnmt_differs_from_the_power_form():
    # (5 + L) / 6 grows slower than L: short hypotheses are favoured less.
    assert ref.length_penalty(1, 1.0, "gnmt") == 1.0
    assert ref.length_penalty(4, 1.0, "gnmt") == pytest.approx(1.5)
    logits_table = ref.table(seed=3)
    gnmt = run(logits_table, 256, 1.0, 3, kind="gnmt")
    power = run(logits_table, 256, 1.0, 3)
    assert not np.allclose(gnmt[1], power[1])


@pytest.mark.parametrize("beta", [0.2, 1.0])
@pytest.mark.parametrize(("kind", "alpha"), [("power", 0.0), ("gnmt", 0.6)])
@pytest.mark.parametrize("n", [1, 3])
def test_coverage_penalty_wide_beam_is_exhaustive(beta, kind, alpha, n):
    seed = int(beta * 10) + n
    logits_table, attention = ref.table(seed=seed), attention_table(seed)
    result = run(logits_table, 256, alpha, n, kind, attention, beta)
    for row, start in enumerate(STARTS):
        expected = ref.brute_force(
            logits_table,
            start,
            alpha,
            n,
            kind=kind,
            attention=(attention, SOURCE_MASK[row]),
            beta=beta,
        )
        assert_matches(result, expected, row)


def test_coverage_changes_the_ranking():
    # Without the penalty the best hypothesis may attend to one position only;
    # with a large beta covering every source position wins.
    changed = 0
    for seed in range(6):
        logits_table, attention = ref.table(seed=seed), attention_table(seed)
        plain = run(logits_table, 256, 0.0, 1, attention=attention)
        covered = run(logits_table, 256, 0.0, 1, attention=attention, beta=5.0)
        changed += int(not np.array_equal(plain[0], covered[0]))
    assert changed > 0


def test_the_attention_of_a_two_value_step_function_is_ignored_without_coverage():
    logits_table, attention = ref.table(seed=5), attention_table(5)
    with_attention = run(logits_table, 3, 0.7, 2, attention=attention)
    without = run(logits_table, 3, 0.7, 2)
    for a, b in zip(with_attention, without):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_compiled_with_coverage():
    logits_table, attention = ref.table(seed=9), attention_table(9)
    eager = run(logits_table, 3, 0.6, 2, "gnmt", attention, 0.2)
    step_fn = ref.attention_step_fn(logits_table, attention)

    def search(starts):
        return beam_search(
            step_fn,
            {**ref.initial_state(3), "mask": SOURCE_MASK},
            starts,
            ref.END,
            3,
            ref.MAX_LENGTH,
            length_penalty=0.6,
            num_return=2,
            length_penalty_type="gnmt",
            coverage_penalty=0.2,
            source_mask=SOURCE_MASK,
        )

    result = [keras.ops.convert_to_numpy(t) for t in ref.compiled(search)(STARTS)]
    np.testing.assert_array_equal(result[0], eager[0])
    np.testing.assert_allclose(result[1], eager[1], atol=1e-5)


def test_bad_input():
    logits_table, attention = ref.table(), attention_table(0)
    plain = ref.table_step_fn(logits_table)
    with_attention = ref.attention_step_fn(logits_table, attention)
    state = {**ref.initial_state(3), "mask": SOURCE_MASK}
    args = (STARTS, ref.END, 2, ref.MAX_LENGTH)
    with pytest.raises(ValueError, match="`length_penalty_type`.*'power', 'gnmt'"):
        beam_search(plain, ref.initial_state(3), *args, length_penalty_type="wu")
    with pytest.raises(ValueError, match="`coverage_penalty`"):
        beam_search(plain, ref.initial_state(3), *args, coverage_penalty=-0.2)
    with pytest.raises(ValueError, match="`source_mask` is required"):
        beam_search(with_attention, state, *args, coverage_penalty=0.2)
    with pytest.raises(
        ValueError, match=r"`source_mask` must have shape .* got shape \(2, 3\)"
    ):
        beam_search(
            with_attention,
            state,
            *args,
            coverage_penalty=0.2,
            source_mask=SOURCE_MASK[:2],
        )
    with pytest.raises(ValueError, match="needs the attention weights.*got 2 values"):
        beam_search(
            plain,
            ref.initial_state(3),
            *args,
            coverage_penalty=0.2,
            source_mask=SOURCE_MASK,
        )
    with pytest.raises(
        ValueError, match=r"attention weights must have shape .*\(6, 4\)"
    ):
        beam_search(
            with_attention,
            state,
            *args,
            coverage_penalty=0.2,
            source_mask=np.ones((3, 4), bool),
        )
