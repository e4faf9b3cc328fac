import keras
import numpy as np
import pytest

from keras_seq.decoding import beam_search, greedy_search
from keras_seq.testing import TestCase
from tests.decoding import reference as ref

STARTS = np.array([1, 3, 4], "int32")


def run(logits_table, beam_width, alpha, n, starts=STARTS):
    sequences, scores, lengths = beam_search(
        ref.table_step_fn(logits_table),
        ref.initial_state(len(starts)),
        starts,
        ref.END,
        beam_width,
        ref.MAX_LENGTH,
        length_penalty=alpha,
        num_return=n,
    )
    return [keras.ops.convert_to_numpy(t) for t in (sequences, scores, lengths)]


def assert_matches(result, expected, row):
    sequences, scores, lengths = result
    case = TestCase()
    for k, (score, tokens, size) in enumerate(expected):
        assert sequences[row, k].tolist() == tokens, (row, k)
        assert lengths[row, k] == size
        case.assertAllClose(scores[row, k], score, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("n", [1, 3])
def test_wide_beam_is_exhaustive(alpha, n):
    # 4 words and an end token, 4 steps: at most 4**4 = 256 live hypotheses.
    logits_table = ref.table(seed=int(alpha * 10) + n)
    result = run(logits_table, beam_width=256, alpha=alpha, n=n)
    for row, start in enumerate(STARTS):
        assert_matches(result, ref.brute_force(logits_table, start, alpha, n), row)


@pytest.mark.parametrize("beam_width", [1, 2, 3])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_small_beams_match_python_reference(beam_width, alpha):
    for seed in range(4):
        logits_table = ref.table(seed=100 + seed)
        n = min(beam_width, 2)
        result = run(logits_table, beam_width, alpha, n)
        for row, start in enumerate(STARTS):
            expected = ref.python_beam_search(logits_table, start, beam_width, alpha, n)
            assert_matches(result, expected, row)


def test_greedy_equals_beam_width_one():
    # Beam width 1 also keeps the best *finished* hypothesis it saw; with end
    # probabilities negligible unless the end token wins, that is greedy's.
    logits_table = ref.table(seed=7)
    logits_table[..., ref.END] = -30.0
    logits_table[2, :, ref.END] = 30.0  # every path ends at step 3
    step_fn = ref.table_step_fn(logits_table)
    greedy = greedy_search(
        step_fn, ref.initial_state(3), STARTS, ref.END, ref.MAX_LENGTH
    )
    beam = run(logits_table, beam_width=1, alpha=0.0, n=1)
    greedy = [keras.ops.convert_to_numpy(t) for t in greedy]
    np.testing.assert_array_equal(greedy[0], beam[0][:, 0])
    np.testing.assert_array_equal(greedy[2], beam[2][:, 0])
    TestCase().assertAllClose(greedy[1], beam[1][:, 0], atol=1e-5)
    # And greedy is the argmax path, computed by hand.
    for row, start in enumerate(STARTS):
        previous, tokens = start, []
        for step in range(ref.MAX_LENGTH):
            previous = int(np.argmax(logits_table[step, previous]))
            tokens.append(previous)
            if previous == ref.END:
                break
        assert greedy[0][row].tolist() == ref.padded(tokens)


def test_stub_sentence_and_rows_stop_independently():
    # Next token = previous + 1 (mod 6), end id 0: row b counts up from its start.
    vocab, end = 6, 0

    def step_fn(tokens, state):
        nxt = (keras.ops.cast(tokens, "int32") + 1) % vocab
        return 10.0 * keras.ops.one_hot(nxt, vocab), state

    starts = np.array([3, 1, 5], "int32")
    sequences, _, lengths = beam_search(
        step_fn, {}, starts, end, beam_width=2, max_length=6, num_return=1
    )
    sequences = keras.ops.convert_to_numpy(sequences)[:, 0]
    assert sequences.tolist() == [
        [4, 5, 0, 0, 0, 0],
        [2, 3, 4, 5, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]
    assert keras.ops.convert_to_numpy(lengths)[:, 0].tolist() == [3, 5, 1]
    greedy, _, greedy_lengths = greedy_search(step_fn, {}, starts, end, 6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(greedy), sequences)
    assert keras.ops.convert_to_numpy(greedy_lengths).tolist() == [3, 5, 1]


def test_impossible_hypotheses_are_minus_inf():
    # Two tokens (end and one word), beam 3: only a few hypotheses exist.
    logits_table = ref.table(seed=3, vocab=2, steps=2)
    _, scores, _ = beam_search(
        ref.table_step_fn(logits_table),
        ref.initial_state(1),
        np.array([1], "int32"),
        0,
        beam_width=3,
        max_length=2,
        num_return=3,
    )
    scores = keras.ops.convert_to_numpy(scores)[0]
    # [end], [1, end], [1, 1] exist; nothing else.
    assert np.all(np.isfinite(scores[:3]))
    expected = ref.brute_force(logits_table, 1, 0.0, 3, end=0, length=2)
    TestCase().assertAllClose(scores, np.array([e[0] for e in expected]), atol=1e-5)
    # One step: only [end] and [1] exist, the third hypothesis cannot.
    one_step = ref.table_step_fn(ref.table(seed=3, vocab=2, steps=1))
    _, scores, _ = beam_search(
        one_step, ref.initial_state(1), np.array([1], "int32"), 0, 3, 1, num_return=3
    )
    scores = keras.ops.convert_to_numpy(scores)[0]
    assert np.isfinite(scores[:2]).all() and scores[2] == -np.inf


def test_compiled():
    logits_table = ref.table(seed=11)
    eager = run(logits_table, beam_width=3, alpha=0.7, n=2)
    step_fn = ref.table_step_fn(logits_table)

    def search(starts):
        return beam_search(
            step_fn, ref.initial_state(3), starts, ref.END, 3, ref.MAX_LENGTH, 0.7, 2
        )

    result = [keras.ops.convert_to_numpy(t) for t in ref.compiled(search)(STARTS)]
    np.testing.assert_array_equal(result[0], eager[0])
    np.testing.assert_array_equal(result[2], eager[2])
    TestCase().assertAllClose(result[1], eager[1], atol=1e-5)


def test_bad_input():
    step_fn = ref.table_step_fn(ref.table())
    state = ref.initial_state(3)
    with pytest.raises(ValueError, match="`beam_width`.*positive integer, got 0"):
        beam_search(step_fn, state, STARTS, 0, 0, 4)
    with pytest.raises(
        ValueError, match=r"`num_return` \(3\) must be <= `beam_width` \(2\)"
    ):
        beam_search(step_fn, state, STARTS, 0, 2, 4, num_return=3)
    with pytest.raises(ValueError, match="`max_length`.*positive integer, got 0"):
        beam_search(step_fn, state, STARTS, 0, 2, 0)
    for penalty in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="`length_penalty`.*finite number >= 0"):
            beam_search(step_fn, state, STARTS, 0, 2, 4, length_penalty=penalty)
    vocab = ref.table().shape[-1]
    with pytest.raises(
        ValueError, match=rf"`end_id` must be a token id .*\(0 to {vocab - 1}\), got 99"
    ):
        beam_search(step_fn, state, STARTS, 99, 2, 4)
    with pytest.raises(
        ValueError, match=r"`initial_state` .* batch axis of 3 .*got shape \(2,\)"
    ):
        beam_search(step_fn, ref.initial_state(2), STARTS, 0, 2, 4)
    with pytest.raises(ValueError, match=r"`start_ids` must have shape \(batch,\)"):
        beam_search(step_fn, state, STARTS[None], 0, 2, 4)

    def wrong_rows(tokens, state):
        return keras.ops.zeros((1, 5)), state

    with pytest.raises(
        ValueError, match=r"logits of shape \(6, vocab\), got shape \(1, 5\)"
    ):
        beam_search(wrong_rows, state, STARTS, 0, 2, 4)

    def wrong_rank(tokens, state):
        return keras.ops.zeros((6,)), state

    with pytest.raises(ValueError, match="logits of shape"):
        beam_search(wrong_rank, state, STARTS, 0, 2, 4)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="SavedModel is TensorFlow's"
)
def test_inside_a_saved_model():
    import json
    import subprocess
    import sys
    import tempfile

    import tensorflow as tf

    keras.utils.set_random_seed(0)
    embedding = keras.layers.Embedding(12, 8)
    cell = keras.layers.GRUCell(8)
    dense = keras.layers.Dense(12)

    def step_fn(tokens, h):
        output, states = cell(embedding(tokens), [h])
        return dense(output), states[0]

    class Decoder(tf.Module):
        def __init__(self):
            super().__init__()
            self.layers = [embedding, cell, dense]

        @tf.function(input_signature=[tf.TensorSpec((None,), tf.int32)])
        def decode(self, start_ids):
            h = tf.zeros((tf.shape(start_ids)[0], 8))
            sequences, scores, lengths = beam_search(
                step_fn, h, start_ids, 0, 3, 6, length_penalty=0.7, num_return=2
            )
            return {"sequences": sequences, "scores": scores, "lengths": lengths}

    module = Decoder()
    starts = np.array([1, 5, 7], "int32")
    embedding.build((None,))
    cell.build((None, 8))
    dense.build((None, 8))
    expected = beam_search(
        step_fn, np.zeros((3, 8), "float32"), starts, 0, 3, 6, 0.7, 2
    )
    path = tempfile.mkdtemp()
    tf.saved_model.save(module, path)
    script = (
        "import sys, json, numpy as np, tensorflow as tf\n"
        f"m = tf.saved_model.load({path!r})\n"
        "out = m.decode(tf.constant([1, 5, 7], tf.int32))\n"
        "print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_array_equal(
        loaded["sequences"], keras.ops.convert_to_numpy(expected[0])
    )
    np.testing.assert_array_equal(
        loaded["lengths"], keras.ops.convert_to_numpy(expected[2])
    )
    np.testing.assert_allclose(
        loaded["scores"], keras.ops.convert_to_numpy(expected[1]), atol=1e-5
    )
