import keras
import pytest

from keras_seq.layers import GRU
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref


class GRUTest(TestCase):
    def test_layer(self):
        for reset_after in (True, False):
            self.run_layer_test(
                GRU,
                {"units": 3, "reset_after": reset_after, "return_sequences": True},
                ref.sequences(),
                expected_output_shape=(4, 7, 3),
                expected_num_trainable_weights=3,
                input_mask=ref.masks()["right"],
            )

    def test_bias_layout(self):
        for reset_after, shape in ((True, (2, 18)), (False, (18,))):
            layer = GRU(6, reset_after=reset_after)
            layer(ref.sequences())
            self.assertEqual(tuple(layer.cell.bias.shape), shape)

    def test_bad_inputs(self):
        ref.check_bad_inputs(self, GRU)

    def test_stateful(self):
        ref.check_stateful(self, GRU, reset_after=False)

    def test_dropout(self):
        for reset_after in (True, False):
            ref.check_dropout(self, GRU, reset_after=reset_after)


@pytest.mark.parametrize("reset_after", [True, False])
@ref.keras_cases
def test_matches_keras(reset_after, mask_kind, go_backwards, use_initial_state):
    ref.check_matches_keras(
        TestCase(),
        GRU,
        keras.layers.GRU,
        mask_kind,
        use_initial_state,
        go_backwards=go_backwards,
        reset_after=reset_after,
    )
