"""`zoo.text_batch`: what `ServedModel` sends to a text signature."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from zoo import text_batch


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ("好的", [b"\xe5\xa5\xbd\xe7\x9a\x84"]),  # one text, not two characters
        (b"\xff", [b"\xff"]),
        (["a b", b"c", ""], [b"a b", b"c", b""]),
        (("a", "b"), [b"a", b"b"]),
        (np.array(["a", "b"]), [b"a", b"b"]),
        (np.array("a b"), [b"a b"]),
        (tf.constant(["a", "b"]), [b"a", b"b"]),
        (tf.constant("a b"), [b"a b"]),
        ([], []),
    ],
)
def test_text_batch_is_a_flat_batch_of_strings(texts, expected):
    batch = text_batch(texts)
    assert batch.dtype == tf.string and batch.shape == (len(expected),)
    assert list(batch.numpy()) == expected


@pytest.mark.parametrize(
    ("texts", "received"),
    [
        (None, "NoneType"),
        ([1, 2], "int"),
        (["a", None], "NoneType"),
        ([["a"]], "list"),
        (np.array([["a"]]), "ndarray"),
        (tf.constant([["a"]]), "ndarray"),
    ],
)
def test_text_batch_refuses_what_is_not_a_list_of_strings(texts, received):
    with pytest.raises(TypeError, match=f"got an element of type {received}"):
        text_batch(texts)
