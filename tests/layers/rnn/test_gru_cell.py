import keras
import numpy as np

from keras_seq.layers import GRUCell
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref


def numpy_gru_step(x, h, kernel, recurrent, bias, reset_after):
    """One GRU step written from the equations (gate order z, r, h)."""

    def sigmoid(v):
        return 1.0 / (1.0 + np.exp(-v))

    units = h.shape[-1]
    input_bias = bias[0] if reset_after else bias
    x_z, x_r, x_h = np.split(x @ kernel + input_bias, 3, axis=-1)
    u_z, u_r, u_h = np.split(recurrent, 3, axis=-1)
    recurrent_bias = bias[1] if reset_after else np.zeros(3 * units)
    b_z, b_r, b_h = np.split(recurrent_bias, 3)
    z = sigmoid(x_z + h @ u_z + b_z)
    r = sigmoid(x_r + h @ u_r + b_r)
    if reset_after:
        candidate = np.tanh(x_h + r * (h @ u_h + b_h))
    else:
        candidate = np.tanh(x_h + (r * h) @ u_h)
    return z * h + (1 - z) * candidate


class GRUCellTest(TestCase):
    def test_matches_numpy_both_placements(self):
        x = ref.sequences()[:, 0]
        rng = np.random.default_rng(6)
        h = rng.normal(size=(x.shape[0], ref.UNITS)).astype("float32")
        for reset_after in (True, False):
            cell = GRUCell(ref.UNITS, reset_after=reset_after)
            cell(x, [h])
            weights = [rng.normal(scale=0.5, size=w.shape) for w in cell.get_weights()]
            cell.set_weights(weights)
            output, (state,) = cell(x, [h])
            expected = numpy_gru_step(x, h, *weights, reset_after=reset_after)
            self.assertAllClose(output, expected, atol=1e-5)
            self.assertAllClose(state, expected, atol=1e-5)

    def test_matches_keras_cell_in_rnn(self):
        x = ref.sequences()
        for reset_after in (True, False):
            ours = keras.layers.RNN(GRUCell(ref.UNITS, reset_after=reset_after))
            theirs = keras.layers.RNN(
                keras.layers.GRUCell(ref.UNITS, reset_after=reset_after)
            )
            ours(x)
            theirs(x)
            ours.set_weights(theirs.get_weights())
            self.assertAllClose(ours(x), theirs(x), atol=1e-6)

    def test_config_round_trip(self):
        cell = GRUCell(5, reset_after=False, dropout=0.2, seed=3)
        config = cell.get_config()
        self.assertEqual(GRUCell.from_config(config).get_config(), config)
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(cell)
        )
        self.assertIsInstance(revived, GRUCell)
