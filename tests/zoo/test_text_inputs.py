"""`zoo.text_inputs.pad_time`: training batches padded to a few lengths."""

import numpy as np
import pytest

from zoo import text_inputs


@pytest.mark.parametrize("length, padded", [(1, 16), (16, 16), (17, 32), (40, 48)])
def test_pad_time_rounds_the_time_axis_up_with_zeros(length, padded):
    tf = pytest.importorskip("tensorflow")
    random = np.random.default_rng(length)
    ids = random.integers(1, 9, (3, length))
    characters = random.integers(1, 9, (3, length, 5))
    padded_ids, padded_characters = text_inputs.pad_time(
        [tf.constant(ids), tf.constant(characters)]
    )
    expected = np.zeros((3, padded), ids.dtype)
    expected[:, :length] = ids
    np.testing.assert_array_equal(padded_ids, expected)
    expected = np.zeros((3, padded, 5), ids.dtype)
    expected[:, :length] = characters
    np.testing.assert_array_equal(padded_characters, expected)
    # In a tf.data map, padding ragged rows, the length is known per batch only.
    data = tf.data.Dataset.from_tensors(tf.ragged.constant(ids.tolist())).map(
        lambda rows: text_inputs.pad_time([rows.to_tensor()])[0]
    )
    assert data.element_spec.shape.as_list() == [3, None]
    np.testing.assert_array_equal(next(iter(data)), padded_ids)
