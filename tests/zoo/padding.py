"""Checks shared by the zoo tests of `zoo.text_inputs.pad_time`."""

import numpy as np


def assert_padding_changes_nothing(padded, unpadded):
    """`(loss, gradients)` of a batch padded with masked steps equal the
    same batch's unpadded ones."""
    import tensorflow as tf

    (padded_loss, padded_gradients), (loss, gradients) = padded, unpadded
    np.testing.assert_allclose(padded_loss, loss, rtol=1e-6)
    assert len(padded_gradients) == len(gradients)
    for padded_gradient, gradient in zip(padded_gradients, gradients):
        np.testing.assert_allclose(
            tf.convert_to_tensor(padded_gradient),
            tf.convert_to_tensor(gradient),
            rtol=1e-4,
            atol=1e-7,
        )
