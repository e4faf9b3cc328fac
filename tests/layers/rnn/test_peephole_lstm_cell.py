import keras
import numpy as np

from keras_seq.layers import PeepholeLSTMCell
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref


def numpy_peephole_lstm(x, kernel, recurrent, bias, peepholes, h0, c0, mask=None):
    """The peephole LSTM equations in float64 NumPy, with Keras mask semantics.

    Returns `(outputs (batch, time, units), h_T, c_T)`.
    """

    def sigmoid(v):
        return 1.0 / (1.0 + np.exp(-v))

    p_i, p_f, p_o = (np.asarray(p, "float64") for p in peepholes)
    h, c = np.asarray(h0, "float64"), np.asarray(c0, "float64")
    previous_output = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
        i = sigmoid(z_i + p_i * c)
        f = sigmoid(z_f + p_f * c)
        c_new = f * c + i * np.tanh(z_c)
        o = sigmoid(z_o + p_o * c_new)
        h_new = o * np.tanh(c_new)
        keep = np.ones((x.shape[0], 1), bool) if mask is None else mask[:, t, None]
        h = np.where(keep, h_new, h)
        c = np.where(keep, c_new, c)
        previous_output = np.where(keep, h_new, previous_output)
        outputs.append(previous_output)
    return np.stack(outputs, axis=1), h, c


class PeepholeLSTMCellTest(TestCase):
    def test_weights_and_config(self):
        cell = PeepholeLSTMCell(4, recurrent_dropout=0.1, seed=1)
        layer = keras.layers.RNN(cell)
        layer(ref.sequences())
        names = [w.name for w in cell.weights]
        self.assertEqual(
            names,
            [
                "kernel",
                "recurrent_kernel",
                "bias",
                "input_gate_peephole_weights",
                "forget_gate_peephole_weights",
                "output_gate_peephole_weights",
            ],
        )
        config = cell.get_config()
        self.assertEqual(PeepholeLSTMCell.from_config(config).get_config(), config)
        self.assertEqual(cell.state_size, [4, 4])

    def test_in_keras_rnn_matches_numpy(self):
        x = ref.sequences()
        mask = ref.masks()["left"]
        layer = keras.layers.RNN(
            PeepholeLSTMCell(ref.UNITS), return_sequences=True, return_state=True
        )
        layer(x)
        rng = np.random.default_rng(5)
        layer.set_weights(
            [rng.normal(scale=0.5, size=w.shape) for w in layer.get_weights()]
        )
        kernel, recurrent, bias, *peepholes = layer.get_weights()
        h0, c0 = ref.initial_states(2)
        outputs = layer(x, mask=mask, initial_state=[h0, c0])
        expected = numpy_peephole_lstm(
            x, kernel, recurrent, bias, peepholes, h0, c0, mask
        )
        # Keras's JAX backend emits h0 at leading masked steps (TF: zeros).
        leading = np.cumsum(mask, axis=1) == 0
        got = [
            np.where(leading[..., None], 0.0, keras.ops.convert_to_numpy(outputs[0]))
        ]
        self.assertAllClose(got + list(outputs[1:]), expected, atol=1e-5)

    def test_no_peepholes_is_keras_lstm_cell(self):
        x = ref.sequences()
        ours = keras.layers.RNN(PeepholeLSTMCell(ref.UNITS, use_peepholes=False))
        theirs = keras.layers.RNN(keras.layers.LSTMCell(ref.UNITS))
        ours(x)
        theirs(x)
        self.assertEqual(len(ours.get_weights()), 3)
        ours.set_weights(theirs.get_weights())
        self.assertAllClose(ours(x), theirs(x), atol=1e-6)

    def test_dropout_in_keras_rnn(self):
        x = ref.sequences()
        layer = keras.layers.RNN(
            PeepholeLSTMCell(ref.UNITS, dropout=0.5, recurrent_dropout=0.5, seed=0)
        )
        inference = keras.ops.convert_to_numpy(layer(x, training=False))
        training = keras.ops.convert_to_numpy(layer(x, training=True))
        self.assertTrue(np.all(np.isfinite(training)))
        self.assertGreater(np.abs(training - inference).max(), 1e-3)

    def test_bad_input(self):
        cell = PeepholeLSTMCell(3)
        states = cell.get_initial_state(batch_size=2)
        with self.assertRaisesRegex(ValueError, "rank 2"):
            cell(np.ones((2, 3, 4), "float32"), states)
        with self.assertRaisesRegex(ValueError, "positive integer"):
            PeepholeLSTMCell(-1)
