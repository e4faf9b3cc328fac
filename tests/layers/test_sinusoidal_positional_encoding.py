import keras
import numpy as np
import pytest

from keras_seq.layers import SinusoidalPositionalEncoding
from keras_seq.testing import TestCase


def numpy_table(length, dim, start=0, max_wavelength=10000.0):
    table = np.zeros((length, dim))
    for i in range(length):
        for j in range(0, dim, 2):
            angle = (start + i) / max_wavelength ** (j / dim)
            table[i, j] = np.sin(angle)
            if j + 1 < dim:
                table[i, j + 1] = np.cos(angle)
    return table


class SinusoidalPositionalEncodingTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            SinusoidalPositionalEncoding,
            {"max_wavelength": 500, "add_to_inputs": True},
            np.random.default_rng(0).normal(size=(2, 7, 6)).astype("float32"),
            expected_output_shape=(2, 7, 6),
            expected_num_trainable_weights=0,
            run_training_check=False,  # no weights
        )

    def test_matches_formula(self):
        x = np.zeros((2, 50, 16), "float32")
        for dim in (16, 7):  # an odd dimension ends with a sine column
            out = SinusoidalPositionalEncoding()(x[..., :dim])
            self.assertAllClose(out[1], numpy_table(50, dim), atol=2e-5, rtol=1e-5)
        added = SinusoidalPositionalEncoding(add_to_inputs=True)(x + 1.0)
        self.assertAllClose(added[0], numpy_table(50, 16) + 1.0, atol=2e-5)

    def test_matches_keras_hub(self):
        keras_hub = pytest.importorskip("keras_hub")
        x = np.random.default_rng(1).normal(size=(3, 40, 12)).astype("float32")
        for wavelength in (10000, 100):
            ours = SinusoidalPositionalEncoding(max_wavelength=wavelength)(x)
            theirs = keras_hub.layers.SinePositionEncoding(max_wavelength=wavelength)(x)
            self.assertAllClose(ours, theirs, atol=1e-5, rtol=1e-5)
            ours = SinusoidalPositionalEncoding(max_wavelength=wavelength)(
                x[:, :5], start_index=17
            )
            theirs = keras_hub.layers.SinePositionEncoding(max_wavelength=wavelength)(
                x[:, :5], start_index=17
            )
            self.assertAllClose(ours, theirs, atol=1e-5, rtol=1e-5)

    def test_start_index_slices_agree_with_full_pass(self):
        x = np.zeros((1, 30, 8), "float32")
        layer = SinusoidalPositionalEncoding()
        full = keras.ops.convert_to_numpy(layer(x))
        for start in (0, 1, 13, 29):
            step = layer(x[:, :1], start_index=start)
            self.assertAllClose(step[0, 0], full[0, start], atol=1e-6)
        chunk = layer(x[:, :10], start_index=keras.ops.convert_to_tensor(20))
        self.assertAllClose(chunk[0], full[0, 20:30], atol=1e-6)

    def test_bad_input(self):
        with self.assertRaisesRegex(ValueError, "rank 3"):
            SinusoidalPositionalEncoding()(np.zeros((2, 3), "float32"))
        with self.assertRaisesRegex(ValueError, "floating point"):
            SinusoidalPositionalEncoding()(np.zeros((2, 3, 4), "int32"))
        with self.assertRaisesRegex(ValueError, "`max_wavelength`.*> 1, got 0"):
            SinusoidalPositionalEncoding(max_wavelength=0)
