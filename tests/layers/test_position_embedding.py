import keras
import numpy as np

from keras_seq.layers import PositionEmbedding
from keras_seq.testing import TestCase


class PositionEmbeddingTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            PositionEmbedding,
            {"sequence_length": 9, "add_to_inputs": True},
            np.random.default_rng(0).normal(size=(2, 7, 6)).astype("float32"),
            expected_output_shape=(2, 7, 6),
            expected_num_trainable_weights=1,
        )

    def test_rows_and_start_index(self):
        layer = PositionEmbedding(sequence_length=12)
        x = np.ones((2, 5, 4), "float32")
        out = keras.ops.convert_to_numpy(layer(x))
        table = keras.ops.convert_to_numpy(layer.embeddings)
        self.assertAllClose(out[1], table[:5], atol=0)
        self.assertAllClose(layer(x[:, :3], start_index=7)[0], table[7:10], atol=0)
        added = PositionEmbedding(sequence_length=12, add_to_inputs=True)
        result = keras.ops.convert_to_numpy(added(x))
        self.assertAllClose(
            result, x + keras.ops.convert_to_numpy(added.embeddings)[:5], atol=0
        )

    def test_bad_input(self):
        layer = PositionEmbedding(sequence_length=4)
        with self.assertRaisesRegex(ValueError, "holds 4 positions"):
            layer(np.zeros((1, 5, 3), "float32"))
        with self.assertRaisesRegex(ValueError, "holds 4 positions"):
            layer(np.zeros((1, 2, 3), "float32"), start_index=3)
        with self.assertRaisesRegex(ValueError, "`sequence_length`.*positive integer"):
            PositionEmbedding(sequence_length=0)
        with self.assertRaisesRegex(ValueError, "rank 3"):
            layer(np.zeros((1, 2), "float32"))
