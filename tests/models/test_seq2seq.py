"""`Seq2Seq`: decoding against the teacher-forced model, brute force, saving.

References are independent of the searches: the model's own teacher-forced
pass (`model([source, prefix])`) scores every hypothesis, greedy search is
redone with one full pass per token, and beam search is checked against the
enumeration of all hypotheses.
"""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq import layers
from keras_seq.models import Seq2Seq
from tests.decoding import reference as ref

VOCAB, PAD, START, END = 6, 0, 1, 2
# Row 1 has two padding positions.
SOURCE = np.array([[3, 4, 5, 3], [5, 3, 0, 0]], "int32")

CONFIGS = {
    "default": {},
    "lstm_unidirectional_2_layers": {
        "cell": "lstm",
        "bidirectional": False,
        "encoder_layers": 2,
        "attention": "dot",
    },
    "peephole_general_bahdanau": {
        "cell": "peephole_lstm",
        "attention": "general",
        "attention_style": "bahdanau",
    },
    "gru_concat_input_feeding": {"attention": "concat", "input_feeding": True},
}


def build(seed=0, **config):
    keras.utils.set_random_seed(seed)
    model = Seq2Seq(
        VOCAB,
        VOCAB,
        embedding_dim=8,
        units=8,
        pad_id=PAD,
        start_id=START,
        end_id=END,
        **config,
    )
    model([SOURCE, np.full((2, 1), START, "int32")])
    # Peaky distributions (no near ties) and the padding id never chosen:
    # a padded prefix would be masked in the teacher-forced reference.
    kernel = ops.convert_to_numpy(model.logits_layer.kernel)
    model.logits_layer.kernel.assign(kernel * 6.0)
    bias = np.zeros(VOCAB, "float32")
    bias[PAD] = -1e4
    model.logits_layer.bias.assign(bias)
    return model


def numpy(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_steps_equal_teacher_forced_pass(name):
    model = build(**CONFIGS[name])
    target_in = np.array([[START, 3, 4, 5, 4], [START, 5, 5, 3, 4]], "int32")
    expected = numpy(model([SOURCE, target_in]))
    state = model.encode(SOURCE)
    for t in range(target_in.shape[1]):
        logits, state, weights = model.step(target_in[:, t], state)
        np.testing.assert_allclose(numpy(logits), expected[:, t], atol=1e-5)
        weights = numpy(weights)
        np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
        assert np.all(weights[SOURCE == PAD] == 0.0)


def prefix_tables(model, source_row, length):
    """log p of every token, and the attention weights, after every prefix.

    One teacher-forced pass over all `[START] w_1 .. w_{length-1}` prefixes
    (the model is causal: position j sees the prefix up to j); the weights
    come from `AttentionRNN(model.wrapper, return_alignments=True)`.
    Returns `{prefix: log_probs}`, `{prefix: weights}` and the words.
    """
    words = [v for v in range(VOCAB) if v not in (PAD, END)]
    prefixes = np.array(
        [[START, *p] for p in itertools.product(words, repeat=length - 1)], "int32"
    )
    source = np.repeat(source_row[None], len(prefixes), axis=0)
    log_probs = ref.log_softmax(numpy(model([source, prefixes])))
    state = model.encode(source)
    _, alignments = layers.AttentionRNN(model.wrapper, return_alignments=True)(
        model.target_embedding(prefixes),
        state["memory"],
        memory_mask=state["memory_mask"],
        initial_state=state["decoder"][:-1],
    )
    log_prob_table, weight_table = {}, {}
    for prefix, rows, weights in zip(prefixes, log_probs, numpy(alignments)):
        for j in range(length):
            log_prob_table[tuple(prefix[1 : j + 1])] = rows[j]
            weight_table[tuple(prefix[1 : j + 1])] = weights[j]
    return log_prob_table, weight_table, words


def brute_force(model, source_row, length, alpha, kind, beta=0.0):
    """Every finished hypothesis of up to `length` tokens, best first, scored
    `sum(log p) / lp(length) + cp` (`cp` the coverage penalty, `beta` > 0)."""
    log_probs, weights, words = prefix_tables(model, source_row, length)
    mask = source_row != PAD
    results = []
    for size in range(1, length + 1):
        for body in itertools.product(words, repeat=size - 1):
            for last in [END] if size < length else [END, *words]:
                tokens = [*body, last]
                prefixes = [tuple(tokens[:j]) for j in range(size)]
                score = sum(log_probs[p][t] for p, t in zip(prefixes, tokens))
                score /= ref.length_penalty(size, alpha, kind)
                coverage = sum(weights[p] for p in prefixes)
                score += ref.coverage_penalty(coverage, mask, beta)
                results.append((score, ref.padded(tokens, length, END), size))
    results.sort(key=lambda r: -r[0])
    return results


@pytest.mark.parametrize(
    ("name", "alpha", "kind"),
    [
        ("default", 0.0, "power"),
        ("default", 0.8, "power"),
        ("gru_concat_input_feeding", 1.0, "gnmt"),
    ],
)
def test_beam_search_equals_brute_force(name, alpha, kind):
    model = build(seed=1, **CONFIGS[name])
    length, n = 3, 3
    # 16 beams hold every live prefix of this vocabulary: the search is exact.
    sequences, scores, lengths = model.generate(
        SOURCE,
        method="beam",
        max_length=length,
        beam_width=16,
        num_return=n,
        length_penalty=alpha,
        length_penalty_type=kind,
    )
    for row in range(len(SOURCE)):
        expected = brute_force(model, SOURCE[row], length, alpha, kind)[:n]
        np.testing.assert_allclose(
            numpy(scores)[row], [e[0] for e in expected], rtol=1e-4, atol=1e-4
        )
        assert numpy(sequences)[row].tolist() == [e[1] for e in expected]
        assert numpy(lengths)[row].tolist() == [e[2] for e in expected]


def greedy_by_full_passes(model, source, length):
    prefix = np.full((len(source), 1), START, "int32")
    tokens, total = [], np.zeros(len(source))
    done = np.zeros(len(source), bool)
    for _ in range(length):
        log_probs = ref.log_softmax(numpy(model([source, prefix]))[:, -1])
        token = np.where(done, END, log_probs.argmax(-1))
        total += np.where(done, 0.0, log_probs[np.arange(len(source)), token])
        done |= token == END
        tokens.append(token)
        prefix = np.concatenate([prefix, token[:, None].astype("int32")], axis=1)
    return np.stack(tokens, 1), total


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_greedy_equals_full_passes_and_top_1_sampling(name):
    model = build(seed=2, **CONFIGS[name])
    sequences, scores, lengths = model.generate(SOURCE, method="greedy", max_length=5)
    expected, total = greedy_by_full_passes(model, SOURCE, 5)
    assert numpy(sequences).tolist() == expected.tolist()
    np.testing.assert_allclose(numpy(scores), total, rtol=1e-5, atol=1e-5)
    ended = expected == END
    first_end = np.where(ended.any(1), ended.argmax(1) + 1, 5)
    assert numpy(lengths).tolist() == first_end.tolist()
    sampled = model.generate(SOURCE, method="sample", max_length=5, top_k=1)
    assert numpy(sampled[0]).tolist() == expected.tolist()


def test_sampling_draws_anew_each_call():
    model = build(seed=3)
    model.logits_layer.kernel.assign(numpy(model.logits_layer.kernel) * 0.0)
    source = np.repeat(SOURCE[:1], 16, axis=0)
    first = numpy(model.generate(source, method="sample", max_length=6)[0])
    second = numpy(model.generate(source, method="sample", max_length=6)[0])
    assert first.tolist() != second.tolist()
    assert set(np.unique(first)) <= set(range(1, VOCAB))


def test_generate_sees_new_weights():
    """The compiled function reads the variables, not their values at the
    first call."""
    model = build(seed=4)
    for token in (4, 3):
        bias = np.full(VOCAB, -1e4, "float32")
        bias[token] = 50.0
        model.logits_layer.bias.assign(bias)
        got = numpy(model.generate(SOURCE, method="greedy", max_length=4)[0])
        assert got.tolist() == [[token] * 4] * 2


def test_coverage_penalty_equals_brute_force():
    """GNMT's coverage penalty over the weights of the model's attention."""
    model = build(seed=5, attention="general")
    length, n, beta = 3, 3, 2.0
    sequences, scores, lengths = model.generate(
        SOURCE,
        max_length=length,
        beam_width=16,
        num_return=n,
        length_penalty=0.5,
        length_penalty_type="gnmt",
        coverage_penalty=beta,
    )
    for row in range(len(SOURCE)):
        expected = brute_force(model, SOURCE[row], length, 0.5, "gnmt", beta)[:n]
        np.testing.assert_allclose(
            numpy(scores)[row], [e[0] for e in expected], rtol=1e-4, atol=1e-4
        )
        assert numpy(sequences)[row].tolist() == [e[1] for e in expected]
        assert numpy(lengths)[row].tolist() == [e[2] for e in expected]


def test_saves_and_loads(tmp_path):
    model = build(seed=6, **CONFIGS["peephole_general_bahdanau"])
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, Seq2Seq)
    target_in = np.array([[START, 3, 4], [START, 5, 0]], "int32")
    np.testing.assert_allclose(
        numpy(loaded([SOURCE, target_in])), numpy(model([SOURCE, target_in])), atol=1e-6
    )
    for method in ("beam", "greedy"):
        expected = model.generate(SOURCE, method=method, max_length=4)
        got = loaded.generate(SOURCE, method=method, max_length=4)
        assert numpy(got[0]).tolist() == numpy(expected[0]).tolist()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"cell": "rnn"},
            r"`cell`, expected one of \['gru', 'lstm', 'peephole_lstm'\], got 'rnn'",
        ),
        ({"attention": "dot"}, r"`attention='dot'` needs the encoder outputs as wide"),
        ({"units": 0}, r"`units`, expected a positive integer, got 0"),
        ({"start_id": 0}, r"`pad_id`, `start_id` and `end_id` must differ"),
        (
            {"end_id": 9},
            r"`end_id` must be a target id, an integer in \[0, target_vocabulary_size=6\), got 9",
        ),
        ({"dropout": 1.5}, r"`dropout`, expected a float in \[0, 1\), got 1.5"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Seq2Seq(VOCAB, VOCAB, **{"embedding_dim": 4, "units": 4, **kwargs})


def test_bad_sources():
    model = build()
    with pytest.raises(
        ValueError, match=r"shape \(batch, source_length\), got shape \(4,\)"
    ):
        model.generate(SOURCE[0])
    with pytest.raises(ValueError, match=r"got dtype float32"):
        model.generate(SOURCE.astype("float32"))
    with pytest.raises(ValueError, match=r"at least one step"):
        model.generate(np.zeros((2, 0), "int32"))
    with pytest.raises(
        ValueError, match=r"`method`, expected one of \['beam', 'greedy', 'sample'\]"
    ):
        model.generate(SOURCE, method="nucleus")
    with pytest.raises(ValueError, match="beam_width"):
        model.generate(SOURCE, beam_width=0)
