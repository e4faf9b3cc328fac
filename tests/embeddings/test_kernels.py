"""The word2vec CPU kernel (TensorFlow) against a NumPy loop of word2vec's update."""

import keras
import numpy as np
import pytest

from tests.fake_compiler import use_fake_compiler

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="a TensorFlow op"
)


@pytest.fixture(scope="module")
def library():
    from keras_seq.embeddings import kernels

    # Built on every machine that runs the suite (g++ and TensorFlow's
    # headers): a failure here is a failure, not a skip.
    path = kernels.build()
    assert path.exists() and path.suffix == ".so"
    loaded = kernels.load()
    assert loaded is not None
    return loaded


def numpy_word2vec(tables, inputs, targets, negatives, rate, cbow_mean, scale):
    """word2vec.c's per-example loop, in float64: the kernel's reference."""
    embeddings, context = (t.astype(np.float64) for t in tables)
    loss, count = 0.0, 0
    for i, target in enumerate(targets):
        rows = [inputs[i]] if inputs.ndim == 1 else [r for r in inputs[i] if r >= 0]
        if target < 0 or not rows:
            continue
        count += 1
        hidden = embeddings[rows].sum(0)
        input_scale = 1.0
        if inputs.ndim == 2:
            if cbow_mean:
                hidden /= len(rows)
                input_scale = 1.0 if scale == "word2vec" else 1.0 / len(rows)
            else:
                input_scale = 1.0 / len(rows) if scale == "word2vec" else 1.0
        error = np.zeros_like(hidden)
        for k, word in enumerate([target, *negatives[i]]):
            if k > 0 and word == target:
                continue  # as word2vec.c: a negative equal to the target
            label = 1.0 if k == 0 else 0.0
            score = hidden @ context[word]
            loss += np.logaddexp(0.0, -score if label else score)
            gradient = rate * (label - 1.0 / (1.0 + np.exp(-score)))
            error += gradient * context[word]
            context[word] += gradient * hidden
        for row in rows:
            embeddings[row] += input_scale * error
    return embeddings, context, loss, count


def sgd(
    library, variables, inputs, targets, negatives, rate=0.1, alias_table=None, **attrs
):
    """One call of the op on two `tf.Variable`s; uniform negatives by default."""
    if alias_table is None:
        alias_table = library.keras_seq_word2_vec_alias_table(
            np.ones(variables[0].shape[0])
        )
    attrs.setdefault("negative", negatives.shape[1] if negatives.size else 5)
    return library.keras_seq_word2_vec_sgd(
        variables[0].handle,
        variables[1].handle,
        np.asarray(inputs, np.int32),
        np.asarray(targets, np.int32),
        np.asarray(negatives, np.int32),
        *alias_table,
        np.float32(rate),
        np.int64(7),
        **attrs,
    )


def run_kernel(library, tables, inputs, targets, negatives, rate, threads=1, **attrs):
    import tensorflow as tf

    variables = [tf.Variable(t) for t in tables]
    loss, count = sgd(
        library, variables, inputs, targets, negatives, rate, threads=threads, **attrs
    )
    return variables[0].numpy(), variables[1].numpy(), float(loss), int(count)


def tables_and_examples(architecture, vocab=30, dim=8, examples=50, seed=0):
    rng = np.random.default_rng(seed)
    tables = [rng.normal(scale=0.4, size=(vocab, dim)).astype(np.float32) for _ in "ab"]
    if architecture == "skipgram":
        inputs = rng.integers(0, vocab, examples)
    else:
        inputs = rng.integers(0, vocab, (examples, 4))
        inputs[rng.random(inputs.shape) < 0.3] = -1
        inputs[3] = -1  # an example with no context word: skipped
    targets = rng.integers(0, vocab, examples)
    targets[[5, 17]] = -1  # padding
    negatives = rng.integers(0, vocab, (examples, 5))
    negatives[8, 2] = targets[8]  # a negative equal to the target: skipped
    return tables, inputs, targets, negatives


@pytest.mark.parametrize(
    "architecture, cbow_mean, scale",
    [
        ("skipgram", True, "word2vec"),
        ("cbow", True, "word2vec"),
        ("cbow", True, "gradient"),
        ("cbow", False, "word2vec"),
        ("cbow", False, "gradient"),
    ],
)
def test_kernel_equals_numpy_loop(library, architecture, cbow_mean, scale):
    tables, inputs, targets, negatives = tables_and_examples(architecture)
    expected = numpy_word2vec(tables, inputs, targets, negatives, 0.3, cbow_mean, scale)
    got = run_kernel(
        library,
        tables,
        inputs,
        targets,
        negatives,
        0.3,
        cbow_mean=cbow_mean,
        context_scale=scale,
    )
    assert not np.allclose(got[0], tables[0]) and not np.allclose(got[1], tables[1])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-5)
    assert got[3] == expected[3] == len(targets) - 2 - (architecture == "cbow")


def test_kernel_gradient_scale_is_the_models_gradient(library):
    # One CBOW example, "gradient" scale: the kernel's update of every row is
    # -rate times the gradient of the per-example loss (autodiff of
    # `negative_sampling_loss` through the mean), with its `negative`
    # negatives weighted as one each.
    import tensorflow as tf

    tables = tables_and_examples("cbow")[0]
    inputs, targets = np.array([[2, 4, -1, 9]]), np.array([11])
    negatives = np.array([[1, 3, 5, 7, 13]])
    variables = [tf.Variable(t.astype(np.float64)) for t in tables]
    with tf.GradientTape() as tape:
        hidden = tf.reduce_mean(tf.gather(variables[0], [2, 4, 9]), 0)
        scores = tf.linalg.matvec(tf.gather(variables[1], [11, 1, 3, 5, 7, 13]), hidden)
        loss = -tf.math.log_sigmoid(scores[0]) - tf.reduce_sum(
            tf.math.log_sigmoid(-scores[1:])
        )
    gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
    got = run_kernel(
        library, tables, inputs, targets, negatives, 0.01, context_scale="gradient"
    )
    # Exact, not only to first order: the example's words are distinct, so
    # each output row is updated once, from the unchanged hidden vector.
    for table, start, gradient in zip(got[:2], tables, gradients):
        np.testing.assert_allclose(
            (start - table) / 0.01, gradient.numpy(), rtol=1e-3, atol=1e-3
        )
    np.testing.assert_allclose(got[2], loss.numpy(), rtol=1e-5)


def test_threads_split_the_batch(library):
    # Two shards whose examples touch disjoint rows: Hogwild has nothing to
    # race on and the result is the sequential loop's.
    rng = np.random.default_rng(1)
    vocab, dim, half = 40, 8, 300
    tables = [rng.normal(scale=0.4, size=(vocab, dim)).astype(np.float32) for _ in "ab"]
    inputs = np.concatenate([rng.integers(0, 20, half), rng.integers(20, 40, half)])
    targets = np.concatenate([rng.integers(0, 20, half), rng.integers(20, 40, half)])
    negatives = np.concatenate(
        [rng.integers(0, 20, (half, 5)), rng.integers(20, 40, (half, 5))]
    )
    expected = numpy_word2vec(
        tables, inputs, targets, negatives, 0.05, True, "word2vec"
    )
    got = run_kernel(library, tables, inputs, targets, negatives, 0.05, threads=2)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-4, atol=1e-5)
    assert got[3] == 2 * half


def test_alias_table_and_drawn_negatives(library):
    rng = np.random.default_rng(3)
    weights = rng.dirichlet(np.ones(50)) * 7.0
    weights[[4, 30]] = 0.0  # never drawn
    keep, alias = (x.numpy() for x in library.keras_seq_word2_vec_alias_table(weights))
    # The table's distribution, exactly: slot i gives i with keep[i], else
    # alias[i].
    probability = keep.astype(np.float64).copy()
    np.add.at(probability, alias, 1.0 - keep)
    np.testing.assert_allclose(probability / 50, weights / weights.sum(), atol=1e-6)
    draws = library.keras_seq_word2_vec_negatives(keep, alias, 400_000, 11).numpy()
    frequencies = np.bincount(draws, minlength=50) / len(draws)
    expected = weights / weights.sum()
    assert frequencies[4] == frequencies[30] == 0
    # Each frequency within 5 binomial standard deviations.
    sigma = np.sqrt(expected * (1 - expected) / len(draws))
    assert np.all(np.abs(frequencies - expected) <= 5 * sigma + 1e-12)
    again = library.keras_seq_word2_vec_negatives(keep, alias, 1000, 11).numpy()
    np.testing.assert_array_equal(again, draws[:1000])  # same seed, same draws


def test_bad_ids_and_shapes_are_clear_errors(library):
    import tensorflow as tf

    tables, inputs, targets, negatives = tables_and_examples("skipgram")
    bad_targets = targets.copy()
    bad_targets[9] = 30
    variables = [tf.Variable(t) for t in tables]
    keep, alias = library.keras_seq_word2_vec_alias_table(np.ones(30))

    def call(inputs, targets, negatives, keep=keep, alias=alias):
        return sgd(
            library,
            variables,
            inputs,
            targets,
            negatives,
            alias_table=(keep, alias),
            negative=5,
        )

    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"target id 30 .*\[0, 30\)"
    ):
        call(inputs, bad_targets, negatives)
    bad_inputs = inputs.copy()
    bad_inputs[0] = -1  # padding is for CBOW windows only
    with pytest.raises(tf.errors.InvalidArgumentError, match="input id -1"):
        call(bad_inputs, targets, negatives)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`negatives` must be"):
        call(inputs, targets, negatives[:, :3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="`inputs` must be"):
        call(inputs[:, None, None], targets, negatives)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`keep` and `alias`"):
        call(inputs, targets, np.zeros((0, 0)), keep[:10], alias[:10])
    # Nothing was touched by the failed calls.
    np.testing.assert_array_equal(variables[0].numpy(), tables[0])
    np.testing.assert_array_equal(variables[1].numpy(), tables[1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="must not all be 0"):
        library.keras_seq_word2_vec_alias_table(np.zeros(3))


def test_fit_uses_the_kernel_and_reports_the_loss():
    # SkipGram.fit on a CPU goes through the kernel; with rate 0 nothing
    # moves and the logged loss is the mean word2vec loss of the examples
    # (output vectors all 0: every score is 0, loss (1 + negative) log 2).
    from keras_seq.embeddings import SkipGram, identity_loss

    # Negatives are always word 19, never a target.
    model = SkipGram(20, dim=4, negative=3, unigram_log_probs=[-1e4] * 19 + [0.0])
    model.compile(keras.optimizers.SGD(0.0), identity_loss)
    assert model._uses_kernel()
    start = model.embeddings.numpy().copy()
    centres = np.arange(64) % 19
    history = model.fit(
        (centres, centres[::-1]), np.zeros(64), batch_size=32, epochs=1, verbose=0
    )
    np.testing.assert_array_equal(model.embeddings.numpy(), start)
    np.testing.assert_allclose(history.history["loss"][0], 4 * np.log(2), rtol=1e-6)


FAKE_COMPILER = """#!/bin/sh
# Refuses any command holding "$REFUSE"; else writes the file after -o.
echo "$@" >> "$CALLS"
case " $* " in *" $REFUSE "*) echo "error: unrecognized $REFUSE" >&2; exit 1;; esac
while [ $# -gt 1 ]; do [ "$1" = "-o" ] && echo built > "$2"; shift; done
"""


@pytest.mark.parametrize(
    ("refuse", "builds"),
    [("-mno-avx512fp16", True), ("-march=native", False)],
)
def test_build_tries_each_set_of_cpu_flags(tmp_path, monkeypatch, refuse, builds):
    """A compiler that refuses the first flags builds with the next; one
    that refuses them all gets an error naming each try's flags."""
    from keras_seq.embeddings import kernels

    calls = use_fake_compiler(tmp_path, monkeypatch, FAKE_COMPILER)
    monkeypatch.setenv("REFUSE", refuse)
    if builds:
        path = kernels.build()
        assert path.read_text() == "built\n"
        assert kernels.build() == path  # built once, then found
    else:
        with pytest.raises(
            RuntimeError,
            match="(?s)with -march=native -mno-avx512fp16:.*with -march=native:\n.*unrecognized",
        ):
            kernels.build()
        assert not list((tmp_path / "cache" / "kernels").iterdir())  # no leftover
    tried = calls.read_text().splitlines()
    assert len(tried) == 2
    assert "-march=native -mno-avx512fp16" in tried[0]
    assert "-mno-avx512fp16" not in tried[1]
