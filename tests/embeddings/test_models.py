import keras
import numpy as np
import pytest

from keras_seq.embeddings import (
    CBOW,
    SkipGram,
    Vocabulary,
    identity_loss,
    negative_sampling_loss,
    train,
)
from keras_seq.testing import TestCase


def np_log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def numpy_negative_sampling(v, u_pos, u_neg, k):
    """Loss and its gradients by v, u_pos and u_neg (the notes' formulas)."""
    pos, neg = (v * u_pos).sum(-1), v @ u_neg.T
    loss = -np_log_sigmoid(pos) - k * np_log_sigmoid(-neg).mean(-1)
    sig = lambda x: 1 / (1 + np.exp(-x))
    d_v = -(1 - sig(pos))[:, None] * u_pos + k * (sig(neg) @ u_neg) / len(u_neg)
    d_pos = -(1 - sig(pos))[:, None] * v
    d_neg = k * sig(neg).T @ v / len(u_neg)
    return loss, (d_v, d_pos, d_neg)


def negative_sampling_inputs():
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, 6)), rng.normal(size=(4, 6)), rng.normal(size=(7, 6))


def test_negative_sampling_loss_and_gradients_match_numpy():
    v, u_pos, u_neg = negative_sampling_inputs()
    k = 5
    expected, expected_grads = numpy_negative_sampling(v, u_pos, u_neg, k)
    v32, pos32, neg32 = (a.astype("float32") for a in (v, u_pos, u_neg))
    loss = negative_sampling_loss((v32 * pos32).sum(-1), v32 @ neg32.T, k)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), expected, rtol=1e-6)
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    tensors = [tf.constant(a, tf.float64) for a in (v, u_pos, u_neg)]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        tv, tp, tn = tensors
        total = tf.reduce_sum(
            negative_sampling_loss(
                tf.reduce_sum(tv * tp, -1), tf.matmul(tv, tn, transpose_b=True), k
            )
        )
    for got, want in zip(tape.gradient(total, tensors), expected_grads):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


def test_fused_gradients_match_numpy():
    # The gradients the fused step writes out, on every backend.
    v, u_pos, u_neg = negative_sampling_inputs()
    model = SkipGram(10, dim=6, negative=5, shared_negatives=7)
    arrays = (keras.ops.convert_to_tensor(a, "float32") for a in (v, u_pos, u_neg))
    loss, d_positive, d_scores, d_hidden = (
        keras.ops.convert_to_numpy(x) for x in model._fused_gradients(*arrays)
    )
    expected, (d_v, d_pos, d_neg) = numpy_negative_sampling(v, u_pos, u_neg, 5)
    tolerance = {"rtol": 1e-5, "atol": 1e-6}  # float32
    np.testing.assert_allclose(loss, expected, **tolerance)
    np.testing.assert_allclose(d_hidden, d_v, **tolerance)
    np.testing.assert_allclose(d_positive[:, None] * v, d_pos, **tolerance)
    np.testing.assert_allclose(d_scores.T @ v, d_neg, **tolerance)


def test_softmax_losses_match_numpy():
    rng = np.random.default_rng(1)
    for model in (SkipGram(9, dim=4, loss="softmax"), CBOW(9, dim=4, loss="softmax")):
        model.embeddings.assign(rng.normal(size=(9, 4)).astype("float32"))
        model.context_embeddings.assign(rng.normal(size=(9, 4)).astype("float32"))
        emb, ctx = model.embeddings.numpy(), model.context_embeddings.numpy()
        if isinstance(model, SkipGram):
            centres, targets = np.array([1, 2, 3]), np.array([4, 5, 0])
            hidden = emb[centres]
            loss = model((centres, targets))
        else:
            windows = np.array([[1, 2, -1, -1], [3, 4, 5, 6], [-1, 7, -1, -1]])
            targets = np.array([0, 8, 2])
            hidden = np.stack([emb[w[w >= 0]].mean(0) for w in windows])
            loss = model((windows, targets))
        logits = hidden @ ctx.T
        log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        expected = -log_p[np.arange(3), targets]
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(loss), expected, rtol=1e-5
        )


def test_cbow_sum_and_padding():
    model = CBOW(5, dim=3, cbow_mean=False, loss="softmax")
    emb = np.arange(15, dtype="float32").reshape(5, 3) / 10
    model.embeddings.assign(emb)
    a = model((np.array([[1, 2, -1]]), np.array([0])))
    b = model((np.array([[2, -1, 1]]), np.array([0])))
    TestCase().assertAllClose(a, b, atol=1e-6)


def planted_corpus(seed=0, sentences=3000):
    rng = np.random.default_rng(seed)
    families = [[f"a{i}" for i in range(10)], [f"b{i}" for i in range(10)]]
    return [
        list(rng.choice(families[rng.random() < 0.5], size=8)) for _ in range(sentences)
    ]


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_planted_families_are_recovered(architecture):
    wv, _, history = train(
        planted_corpus(),
        architecture,
        dim=16,
        window=3,
        min_count=1,
        sample=0,
        epochs=3,
        batch_size=256,
        verbose=0,
    )
    for word in ("a0", "b3"):
        neighbours = [w for w, _ in wv.most_similar(word, topn=9)]
        assert all(w[0] == word[0] for w in neighbours), (word, neighbours)
    assert history.history["words_per_second"][0] > 0
    assert wv.similarity("a1", "a2") > wv.similarity("a1", "b2")


def test_model_config_round_trip():
    model = SkipGram(6, dim=3, negative=2, unigram_log_probs=[0.0] * 6, seed=1)
    config = model.get_config()
    assert SkipGram.from_config(config).get_config() == config
    model = CBOW(6, dim=3, cbow_mean=False)
    assert CBOW.from_config(model.get_config()).cbow_mean is False
    assert identity_loss(None, 3.0) == 3.0
    with pytest.raises(ValueError, match="`unigram_log_probs` must have 6 entries"):
        SkipGram(6, unigram_log_probs=[0.0])
    with pytest.raises(ValueError, match="`loss`"):
        SkipGram(6, loss="hierarchical")


def test_vocabulary_text_round_trip(tmp_path):
    vocab = Vocabulary.build([["b", "a", "a", "c", "c", "c"], ["x y"]], min_count=1)
    assert vocab.words[:3] == ["c", "a", "b"] and vocab.counts[:3] == [3, 2, 1]
    path = tmp_path / "vocab.txt"
    vocab.save(path)
    loaded = Vocabulary.load(path)
    assert loaded.words == vocab.words and loaded.counts == vocab.counts
    assert "words\tcounts" not in path.read_text() and "c\t3" in path.read_text()
    with pytest.raises(KeyError, match="'zebra' is not in the vocabulary"):
        vocab.index("zebra")
    with_unk = Vocabulary.build([["a", "a", "b"]], min_count=2, unk=True)
    assert with_unk.words == ["<unk>", "a"] and with_unk.counts == [1, 2]
    assert with_unk.ids(["a", "zebra"]) == [1, 0]
    with_unk.save(path)
    assert Vocabulary.load(path).unk
    assert Vocabulary.build([["a", "b", "c"]], min_count=1, max_size=2).words == [
        "a",
        "b",
    ]


FUSED_BACKENDS = ("tensorflow", "jax")


def fused_step_inputs(architecture, vocab, batch, rng):
    if architecture == "skipgram":
        return rng.integers(0, vocab, batch), rng.integers(0, vocab, batch)
    windows = rng.integers(0, vocab, (batch, 4))
    windows[rng.random((batch, 4)) < 0.3] = -1
    return windows, rng.integers(0, vocab, batch)


@pytest.mark.skipif(
    keras.backend.backend() not in FUSED_BACKENDS, reason="no fused step"
)
@pytest.mark.parametrize("architecture", ["skipgram", "cbow_mean", "cbow_sum"])
def test_fused_step_equals_autodiff_step(architecture):
    rng = np.random.default_rng(2)
    vocab, dim, batch = 30, 6, 16
    inputs = fused_step_inputs(architecture, vocab, batch, rng)
    start = [rng.normal(scale=0.3, size=(vocab, dim)).astype("float32") for _ in "ab"]
    log_probs = np.log(rng.dirichlet(np.ones(vocab))).tolist()
    weights = []
    for fused in (True, False):
        kwargs = {"dim": dim, "unigram_log_probs": log_probs, "seed": 3}
        if architecture == "skipgram":
            model = SkipGram(vocab, **kwargs)
        else:
            model = CBOW(vocab, cbow_mean=architecture == "cbow_mean", **kwargs)
        model.embeddings.assign(start[0])
        model.context_embeddings.assign(start[1])
        model.fused_step = fused
        model.use_kernel = False  # the batch step (the kernel: test_kernels.py)
        model.compile(keras.optimizers.SGD(0.5), identity_loss)
        history = model.fit(
            inputs, np.zeros(batch), batch_size=batch, epochs=2, verbose=0
        )
        weights.append([model.embeddings.numpy(), model.context_embeddings.numpy()])
        assert np.isfinite(history.history["loss"]).all()
    # Both tables moved, and the two steps agree.
    assert not np.allclose(weights[0][0], start[0])
    assert not np.allclose(weights[0][1], start[1])
    for fused, plain in zip(*weights):
        np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX's scanned step")
@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_jax_step_padding_changes_nothing(architecture):
    # A (steps, batch) element whose extra examples have target -1 updates the
    # tables exactly as the real examples alone (at the same per-example rate).
    rng = np.random.default_rng(4)
    vocab, dim, batch, padding = 30, 6, 12, 4
    first, second = fused_step_inputs(architecture, vocab, batch, rng)
    pad_first = np.full((padding, *first.shape[1:]), 0 if first.ndim == 1 else -1)
    padded = (
        np.concatenate([first, pad_first])[None],
        np.concatenate([second, np.full(padding, -1)])[None],
    )
    start = [rng.normal(scale=0.3, size=(vocab, dim)).astype("float32") for _ in "ab"]
    results = []
    for inputs, size in (((first, second), batch), (padded, batch + padding)):
        kwargs = {"dim": dim, "seed": 3}
        model = (
            SkipGram(vocab, **kwargs)
            if architecture == "skipgram"
            else CBOW(vocab, **kwargs)
        )
        model.embeddings.assign(start[0])
        model.context_embeddings.assign(start[1])
        model.compile(keras.optimizers.SGD(0.5 * size / batch), identity_loss)
        model.fit(
            inputs, np.zeros(inputs[1].shape), batch_size=size, epochs=1, verbose=0
        )
        results.append([model.embeddings.numpy(), model.context_embeddings.numpy()])
    assert not np.allclose(results[0][1], start[1])
    for plain, padded_result in zip(*results):
        np.testing.assert_allclose(padded_result, plain, rtol=1e-5, atol=1e-6)
