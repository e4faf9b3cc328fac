import keras
import numpy as np

from keras_seq.layers import LSTM
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref
from tests.layers.rnn.test_peephole_lstm_cell import numpy_peephole_lstm


class LSTMTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            LSTM,
            {"units": 3, "return_sequences": True, "return_state": True},
            ref.sequences(),
            expected_output_shape=[(4, 7, 3), (4, 3), (4, 3)],
            expected_num_trainable_weights=3,
            input_mask=ref.masks()["left"],
        )

    def test_layer_with_peepholes(self):
        self.run_layer_test(
            LSTM,
            {"units": 3, "use_peepholes": True},
            ref.sequences(),
            expected_output_shape=(4, 3),
            expected_num_trainable_weights=6,
            input_mask=ref.masks()["right"],
        )

    def test_peepholes_match_numpy(self):
        x = ref.sequences()
        mask = ref.masks()["right"]
        layer = LSTM(
            ref.UNITS, use_peepholes=True, return_sequences=True, return_state=True
        )
        layer(x)
        rng = np.random.default_rng(4)
        layer.set_weights(
            [rng.normal(scale=0.5, size=w.shape) for w in layer.get_weights()]
        )
        kernel, recurrent, bias, p_i, p_f, p_o = layer.get_weights()
        h0, c0 = ref.initial_states(2)
        outputs, h, c = layer(x, mask=mask, initial_state=[h0, c0])
        expected = numpy_peephole_lstm(
            x, kernel, recurrent, bias, (p_i, p_f, p_o), h0, c0, mask
        )
        self.assertAllClose([outputs, h, c], list(expected), atol=1e-5)

    def test_zero_peepholes_equal_lstm(self):
        x = ref.sequences()
        plain = keras.layers.LSTM(ref.UNITS, return_sequences=True)
        peephole = LSTM(ref.UNITS, use_peepholes=True, return_sequences=True)
        plain(x)
        peephole(x)
        units = ref.UNITS
        peephole.set_weights(plain.get_weights() + [np.zeros(units)] * 3)
        self.assertAllClose(peephole(x), plain(x), atol=1e-6)

    def test_unit_forget_bias(self):
        layer = LSTM(4)
        layer(ref.sequences())
        bias = keras.ops.convert_to_numpy(layer.cell.bias)
        self.assertAllClose(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])

    def test_recurrent_bias_layer(self):
        self.run_layer_test(
            LSTM,
            {"units": 3, "use_recurrent_bias": True, "return_sequences": True},
            ref.sequences(),
            expected_output_shape=(4, 7, 3),
            expected_num_trainable_weights=3,
            input_mask=ref.masks()["left"],
        )

    def test_recurrent_bias_is_keras_lstm_of_the_summed_rows(self):
        x = ref.sequences()
        mask = ref.masks()["right"]
        two = LSTM(
            4,
            use_recurrent_bias=True,
            bias_initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed=3),
            return_sequences=True,
        )
        two(x)
        kernel, recurrent, bias = [keras.ops.convert_to_numpy(w) for w in two.weights]
        self.assertEqual(bias.shape, (2, 16))
        # unit_forget_bias: 1 on the input row's forget gate; the recurrent
        # row the initializer's own values, not a repeat of the input row's.
        self.assertAllClose(bias[0, 4:8], np.ones(4))
        self.assertGreater(np.abs(bias[1] - bias[0]).min(), 0)
        keras_lstm = keras.layers.LSTM(4, return_sequences=True)
        keras_lstm(x)
        keras_lstm.set_weights([kernel, recurrent, bias[0] + bias[1]])
        self.assertAllClose(two(x, mask=mask), keras_lstm(x, mask=mask), atol=1e-6)
        # Each row receives the whole bias gradient (PyTorch's bias_ih and
        # bias_hh do): SGD moves their sum twice as far.
        if keras.backend.backend() != "tensorflow":
            return
        import tensorflow as tf

        with tf.GradientTape(persistent=True) as tape:
            mine = tf.reduce_sum(two(x, mask=mask) ** 2)
            theirs = tf.reduce_sum(keras_lstm(x, mask=mask) ** 2)
        grads = tape.gradient(mine, two.trainable_weights)
        expected = tape.gradient(theirs, keras_lstm.trainable_weights)
        self.assertAllClose(grads[0], expected[0], atol=1e-6)
        self.assertAllClose(grads[1], expected[1], atol=1e-6)
        self.assertAllClose(grads[2], np.stack([expected[2]] * 2), atol=1e-6)

    def test_bad_inputs(self):
        ref.check_bad_inputs(self, LSTM)

    def test_stateful(self):
        ref.check_stateful(self, LSTM, use_peepholes=True)

    def test_dropout(self):
        ref.check_dropout(self, LSTM, use_peepholes=True)


@ref.keras_cases
def test_matches_keras(mask_kind, go_backwards, use_initial_state):
    ref.check_matches_keras(
        TestCase(),
        LSTM,
        keras.layers.LSTM,
        mask_kind,
        use_initial_state,
        go_backwards=go_backwards,
    )
