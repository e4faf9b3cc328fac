import keras
import numpy as np

from keras_seq.layers import GRU, LSTM, Bidirectional, SimpleRNNCell, Stacked
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref


class StackedTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            Stacked,
            {
                "layers": LSTM(4, return_sequences=True),
                "num_layers": 2,
                "dropout": 0.2,
                "return_state": True,
            },
            ref.sequences(),
            expected_output_shape=[(4, 7, 4)] + [(4, 4)] * 4,
            expected_num_trainable_weights=6,
            input_mask=ref.masks()["right"],
        )

    def test_layer_bidirectional_mixed(self):
        self.run_layer_test(
            Stacked,
            {
                "layers": [LSTM(4), keras.layers.GRU(4), SimpleRNNCell(4)],
                "bidirectional": True,
                "return_sequences": False,
            },
            ref.sequences(),
            expected_output_shape=(4, 8),
            expected_num_trainable_weights=18,
            input_mask=ref.masks()["left"],
        )

    def test_matches_layers_chained_by_hand(self):
        x = ref.sequences()
        mask = ref.masks()["right"]
        stacked = Stacked(
            GRU(ref.FEATURES, return_sequences=True),
            num_layers=3,
            residual=True,
            return_state=True,
        )
        output, *states = stacked(x, mask=mask)
        h = x
        expected_states = []
        for index, layer in enumerate(stacked.recurrent_layers):
            copy = GRU(ref.FEATURES, return_sequences=True, return_state=True)
            copy(h)
            copy.set_weights(layer.get_weights())
            sequence, state = copy(h, mask=mask)
            h = sequence + h if index > 0 else sequence
            expected_states.append(state)
        self.assertAllClose(output, h, atol=1e-5)
        self.assertAllClose(states, expected_states, atol=1e-5)

    def test_bidirectional_matches_chain(self):
        x = ref.sequences()
        mask = ref.masks()["left"]
        stacked = Stacked(
            LSTM(3, return_sequences=True),
            num_layers=2,
            bidirectional=True,
            merge_mode="sum",
        )
        output = stacked(x, mask=mask)
        h = x
        for layer in stacked.recurrent_layers:
            copy = Bidirectional(LSTM(3, return_sequences=True), merge_mode="sum")
            copy(h)
            copy.set_weights(layer.get_weights())
            h = copy(h, mask=mask)
        self.assertAllClose(output, h, atol=1e-5)

    def test_dropout_between_layers(self):
        x = ref.sequences()
        stacked = Stacked(LSTM(4), num_layers=2, dropout=0.5, seed=1)
        inference = keras.ops.convert_to_numpy(stacked(x, training=False))
        plain = Stacked(LSTM(4), num_layers=2)
        plain(x)
        plain.set_weights(stacked.get_weights())
        self.assertAllClose(plain(x), inference, atol=1e-6)
        self.assertGreater(
            np.abs(
                keras.ops.convert_to_numpy(stacked(x, training=True)) - inference
            ).max(),
            1e-3,
        )

    def test_initial_state(self):
        x = ref.sequences()
        stacked = Stacked(LSTM(ref.UNITS), num_layers=2, return_state=True)
        states = [ref.initial_states(2, seed=1), ref.initial_states(2, seed=2)]
        _, *final = stacked(x, initial_state=states)
        first = LSTM(ref.UNITS, return_sequences=True, return_state=True)
        first(x)
        first.set_weights(stacked.recurrent_layers[0].get_weights())
        _, h, c = first(x, initial_state=states[0])
        self.assertAllClose([h, c], final[:2], atol=1e-5)

    def test_top_layer_keeps_its_template_settings(self):
        x = ref.sequences()
        last = Stacked(LSTM(4), num_layers=2)
        self.assertEqual(tuple(last(x).shape), (x.shape[0], 4))
        self.assertEqual(last.compute_output_shape(x.shape), (x.shape[0], 4))
        sequence = Stacked(LSTM(4, return_sequences=True), num_layers=2)
        self.assertEqual(tuple(sequence(x).shape), (*x.shape[:2], 4))
        stated = Stacked(LSTM(4, return_state=True), num_layers=2)
        self.assertEqual(len(stated(x)), 1 + 2 * 2)
        overridden = Stacked(LSTM(4), num_layers=2, return_sequences=True)
        self.assertEqual(tuple(overridden(x).shape), (*x.shape[:2], 4))
        # The Keras way: a stacked LSTM of last outputs followed by a Dense.
        model = keras.Sequential(
            [keras.Input(x.shape[1:]), Stacked(LSTM(8), num_layers=2)]
            + [keras.layers.Dense(1)]
        )
        model.compile("sgd", "mse")
        history = model.fit(x, np.ones((x.shape[0], 1)), epochs=1, verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"][0]))

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "num_layers"):
            Stacked(LSTM(3))
        with self.assertRaisesRegex(ValueError, "num_layers"):
            Stacked([LSTM(3), LSTM(3)], num_layers=3)
        with self.assertRaisesRegex(ValueError, "recurrent layers or cells"):
            Stacked([keras.layers.Dense(3)])
        with self.assertRaisesRegex(ValueError, "residual"):
            Stacked([LSTM(3), LSTM(4, return_sequences=True)], residual=True)(
                ref.sequences()
            )
        with self.assertRaisesRegex(ValueError, "initial_state"):
            Stacked(LSTM(3), num_layers=2)(ref.sequences(), initial_state=[[]])
