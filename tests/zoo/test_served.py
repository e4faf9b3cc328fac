"""`zoo.served`: `text_batch` (what `ServedModel` sends to a text signature),
`load_served` and the `ServedModel` subclasses tasks register."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import zoo
from zoo import ServedModel, register_served, served, text_batch
from zoo.served import load_served


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


class Echo(ServedModel):
    """A `ServedModel` subclass registered for the `echo` signature."""


def saved_with(path, signatures):
    module = tf.Module()
    functions = {
        name: tf.function(
            lambda texts: {"text": texts},
            input_signature=[tf.TensorSpec([None], tf.string, name="texts")],
        )
        for name in signatures
    }
    tf.saved_model.save(module, str(path), signatures=functions)
    return str(path)


def test_load_gives_the_class_registered_for_a_signature(tmp_path, monkeypatch):
    zoo._import_tasks()  # their registrations go to the real table
    monkeypatch.setattr(served, "SERVED_CLASSES", {})
    register_served("echo", Echo)
    plain = load_served(saved_with(tmp_path / "plain", ["serving_default"]))
    echo = load_served(saved_with(tmp_path / "echo", ["serving_default", "echo"]))
    assert type(plain) is ServedModel and type(echo) is Echo
    assert list(echo(["a", "b"])["text"]) == [b"a", b"b"]
    assert type(zoo.load(tmp_path / "echo")) is Echo


def test_register_served_takes_served_model_subclasses_only():
    with pytest.raises(TypeError, match="subclass of ServedModel"):
        register_served("x", dict)


def test_translation_registers_its_served_translator():
    from zoo.translation.serve import ServedTranslator

    assert served.SERVED_CLASSES["translate_nbest"] is ServedTranslator
