import keras
import numpy as np

from keras_seq.layers import GRU, LSTM, Bidirectional
from keras_seq.layers.rnn.bidirectional import reverse_valid
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref


def holes_mask():
    mask = ref.masks()["right"].copy()
    mask[0, [1, 4]] = False
    return mask


class BidirectionalTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            Bidirectional,
            {"layer": LSTM(3, return_sequences=True, return_state=True)},
            ref.sequences(),
            expected_output_shape=[(4, 7, 6)] + [(4, 3)] * 4,
            expected_num_trainable_weights=6,
            input_mask=ref.masks()["right"],
        )

    def test_merge_modes_match_numpy(self):
        x, mask = ref.sequences(), ref.masks()["right"]
        unmerged = Bidirectional(
            LSTM(3, return_sequences=True, return_state=True), merge_mode=None
        )
        forward, backward, *states = (
            keras.ops.convert_to_numpy(t) for t in unmerged(x, mask=mask)
        )
        merges = {
            "concat": np.concatenate([forward, backward], -1),
            "sum": forward + backward,
            "mul": forward * backward,
            "ave": (forward + backward) / 2,
        }
        for merge_mode, expected in merges.items():
            bi = Bidirectional(
                LSTM(3, return_sequences=True, return_state=True),
                merge_mode=merge_mode,
            )
            bi(x)
            bi.set_weights(unmerged.get_weights())
            output, *merged_states = bi(x, mask=mask)
            self.assertAllClose(output, expected, atol=1e-6)
            for ours, theirs in zip(merged_states, states):
                self.assertAllClose(ours, theirs, atol=1e-6)
            config = bi.get_config()
            self.assertEqual(config["merge_mode"], merge_mode)
            self.assertEqual(Bidirectional.from_config(config).merge_mode, merge_mode)

    def test_reverse_valid_matches_numpy(self):
        x = ref.sequences()
        for mask in (ref.masks()["right"], ref.masks()["left"], holes_mask()):
            expected = x.copy()
            for b in range(x.shape[0]):
                real = np.flatnonzero(mask[b])
                expected[b, real] = x[b, real[::-1]]
            self.assertAllClose(reverse_valid(x, mask), expected, atol=0)
        self.assertAllClose(reverse_valid(x), x[:, ::-1], atol=0)

    def test_matches_per_sequence_computation(self):
        """Each direction reads exactly the real tokens of each sequence."""
        x = ref.sequences()
        for mask in (ref.masks()["right"], ref.masks()["left"], holes_mask()):
            bi = Bidirectional(
                GRU(ref.UNITS, return_sequences=True, return_state=True),
                merge_mode=None,
            )
            forward, backward, forward_h, backward_h = (
                keras.ops.convert_to_numpy(t) for t in bi(x, mask=mask)
            )
            for b in range(x.shape[0]):
                real = np.flatnonzero(mask[b])
                tokens = x[b : b + 1, real]
                fw_seq, fw_h = bi.forward_layer(tokens)
                bw_seq, bw_h = bi.backward_layer(tokens[:, ::-1])
                self.assertAllClose(forward[b, real], fw_seq[0], atol=1e-5)
                self.assertAllClose(
                    backward[b, real],
                    keras.ops.convert_to_numpy(bw_seq)[0, ::-1],
                    atol=1e-5,
                )
                self.assertAllClose(forward_h[b], fw_h[0], atol=1e-5)
                self.assertAllClose(backward_h[b], bw_h[0], atol=1e-5)
                padding = np.flatnonzero(~mask[b])
                self.assertAllClose(
                    forward[b, padding], 0 * forward[b, padding], atol=0
                )
                self.assertAllClose(
                    backward[b, padding], 0 * backward[b, padding], atol=0
                )

    def test_equals_keras_bidirectional_with_contiguous_mask(self):
        x = ref.sequences()
        ours = Bidirectional(LSTM(ref.UNITS, return_sequences=True))
        theirs = keras.layers.Bidirectional(
            keras.layers.LSTM(ref.UNITS, return_sequences=True)
        )
        ours(x)
        theirs(x)
        theirs.set_weights(ours.get_weights())
        for kind in ("none", "right", "left"):
            mask = ref.masks()[kind]
            self.assertAllClose(ours(x, mask=mask), theirs(x, mask=mask), atol=1e-5)

    def test_initial_state_and_last_output(self):
        x = ref.sequences()
        bi = Bidirectional(LSTM(ref.UNITS, return_state=True))
        states = ref.initial_states(4)
        output, *final = bi(x, initial_state=states, mask=ref.masks()["right"])
        self.assertEqual(tuple(output.shape), (4, 2 * ref.UNITS))
        self.assertAllClose(output[:, : ref.UNITS], final[0], atol=1e-6)
        self.assertAllClose(output[:, ref.UNITS :], final[2], atol=1e-6)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "merge_mode"):
            Bidirectional(LSTM(3), merge_mode="max")
        with self.assertRaisesRegex(ValueError, "go_backwards=False"):
            Bidirectional(LSTM(3, go_backwards=True))
        with self.assertRaisesRegex(ValueError, "recurrent Keras layer"):
            Bidirectional(keras.layers.Dense(3))
        with self.assertRaisesRegex(ValueError, "return_sequences"):
            Bidirectional(LSTM(3), backward_layer=LSTM(3, return_sequences=True))
        bi = Bidirectional(LSTM(3))
        with self.assertRaisesRegex(ValueError, "`mask` must have shape"):
            bi(ref.sequences(), mask=np.ones((4, 3), bool))
        with self.assertRaisesRegex(ValueError, "rank 3"):
            bi(np.ones((4, 5), "float32"))
