import keras
import numpy as np
import pytest

from keras_seq.metrics import Perplexity


def test_matches_numpy_and_ignores_padding():
    rng = np.random.default_rng(0)
    metric = Perplexity(pad_id=0)
    total, count = 0.0, 0
    for _ in range(3):
        logits = rng.normal(size=(4, 6, 7)).astype("float32")
        y = rng.integers(1, 7, size=(4, 6))
        y[:, rng.integers(2, 6) :] = 0
        metric.update_state(y, logits)
        log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        picked = np.take_along_axis(log_p, y[..., None], -1)[..., 0]
        total += -(picked * (y != 0)).sum()
        count += (y != 0).sum()
    np.testing.assert_allclose(float(metric.result()), np.exp(total / count), rtol=1e-5)


def test_probabilities_and_weights():
    probs = np.full((2, 3, 4), 0.25, "float32")
    metric = Perplexity(from_logits=False, pad_id=None)
    metric.update_state(np.ones((2, 3), "int32"), probs, sample_weight=np.ones((2, 3)))
    assert float(metric.result()) == pytest.approx(4.0, rel=1e-5)


def test_in_fit():
    x = np.random.default_rng(1).integers(1, 5, size=(32, 5))
    model = keras.Sequential([keras.Input((5,)), keras.layers.Embedding(6, 6)])
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[Perplexity()],
    )
    history = model.fit(x, x, epochs=2, verbose=0)
    loss = history.history["loss"][-1]
    assert np.isfinite(history.history["perplexity"][-1])
    assert history.history["perplexity"][-1] == pytest.approx(np.exp(loss), rel=0.2)


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"\(batch, time, vocab\)"):
        Perplexity().update_state(
            np.ones((2, 3), "int32"), np.ones((2, 4, 5), "float32")
        )
