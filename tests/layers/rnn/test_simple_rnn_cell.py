import keras
import numpy as np

from keras_seq.layers import SimpleRNNCell
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref


class SimpleRNNCellTest(TestCase):
    def test_step_matches_formula(self):
        x = ref.sequences()[:, 0]
        rng = np.random.default_rng(7)
        h = rng.normal(size=(x.shape[0], ref.UNITS)).astype("float32")
        for activation, fn in (("tanh", np.tanh), ("relu", lambda v: np.maximum(v, 0))):
            cell = SimpleRNNCell(ref.UNITS, activation=activation)
            cell(x, [h])
            kernel, recurrent, bias = (
                rng.normal(size=w.shape) for w in cell.get_weights()
            )
            cell.set_weights([kernel, recurrent, bias])
            output, (state,) = cell(x, [h])
            expected = fn(x @ kernel + h @ recurrent + bias)
            self.assertAllClose(output, expected, atol=1e-5)
            self.assertAllClose(state, expected, atol=1e-5)

    def test_matches_keras_cell_in_rnn(self):
        x = ref.sequences()
        ours = keras.layers.RNN(SimpleRNNCell(ref.UNITS), return_sequences=True)
        theirs = keras.layers.RNN(
            keras.layers.SimpleRNNCell(ref.UNITS), return_sequences=True
        )
        ours(x)
        theirs(x)
        ours.set_weights(theirs.get_weights())
        mask = ref.masks()["right"]
        self.assertAllClose(ours(x, mask=mask), theirs(x, mask=mask), atol=1e-6)

    def test_initial_state_and_config(self):
        cell = SimpleRNNCell(3)
        (state,) = cell.get_initial_state(batch_size=2)
        self.assertEqual(tuple(state.shape), (2, 3))
        config = cell.get_config()
        self.assertEqual(SimpleRNNCell.from_config(config).get_config(), config)

    def test_bad_input(self):
        cell = SimpleRNNCell(3)
        with self.assertRaisesRegex(ValueError, "floating point"):
            cell(np.ones((2, 4), bool), cell.get_initial_state(batch_size=2))
        with self.assertRaisesRegex(ValueError, "`recurrent_dropout`"):
            SimpleRNNCell(3, recurrent_dropout=-0.1)
