"""The weight average of `sentiment_weight_average.py` against NumPy."""

import keras
import numpy as np
import pytest

from tests.bench import load_script

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the study runs on TensorFlow"
)


def test_weight_average_is_the_debiased_moving_average():
    study = load_script("sentiment_weight_average")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append([w.numpy() for w in self.model.trainable_weights])

    average = study.WeightAverage(0.9)
    x = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(20, 2)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=2, callbacks=[average, Record()], verbose=0)
    assert average.steps == len(seen) == 10
    trained = [w.numpy() for w in model.trainable_weights]
    weights = 0.1 * 0.9 ** np.arange(len(seen))[::-1]
    weights /= 1 - 0.9 ** len(seen)
    average.swap()
    for index, got in enumerate(model.trainable_weights):
        want = sum(w * step[index] for w, step in zip(weights, seen))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    average.swap()
    for got, want in zip(model.trainable_weights, trained):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-7)
