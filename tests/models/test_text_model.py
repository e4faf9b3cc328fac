"""`TextModel`: a functional model over strings takes them as Python gives them."""

import keras
import numpy as np
import pytest

pytest.importorskip("tensorflow")
if keras.backend.backend() != "tensorflow":
    pytest.skip("string inputs need the TensorFlow backend", allow_module_level=True)

from keras_seq.models import TextModel, as_text_batch

TEXTS = ["a b", "c", "d e f g h"]


def build(cls):
    vectorizer = keras.layers.TextVectorization(output_sequence_length=4)
    vectorizer.adapt(["a b c", "d e f", "g h"])
    texts = keras.Input((), dtype="string")
    embedded = keras.layers.Embedding(10, 3, mask_zero=True)(vectorizer(texts))
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(embedded))
    return cls(texts, outputs)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build(TextModel)


@pytest.mark.parametrize(
    "texts",
    [
        TEXTS,
        tuple(TEXTS),
        np.array(TEXTS),
        np.array([t.encode() for t in TEXTS]),
        [t.encode() for t in TEXTS],
        np.array(TEXTS, dtype=object),
    ],
    ids=["list", "tuple", "numpy str", "numpy bytes", "list of bytes", "numpy object"],
)
def test_call_and_predict_take_python_and_numpy_strings(model, texts):
    import tensorflow as tf

    expected = keras.ops.convert_to_numpy(model(tf.constant(TEXTS)))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(texts)), expected, atol=1e-6
    )
    np.testing.assert_allclose(model.predict(texts, verbose=0), expected, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(texts), expected, atol=1e-6)


def test_one_string_is_a_batch_of_one(model):
    assert model.predict("a b", verbose=0).shape == (1, 2)
    assert tuple(model("a b").shape) == (1, 2)


def test_a_plain_functional_model_refuses_them():
    """What `TextModel` is for (if Keras starts taking strings, it can go)."""
    plain = build(keras.Model)
    with pytest.raises(ValueError):
        plain.predict(TEXTS, verbose=0)
    with pytest.raises(ValueError):
        plain.predict(np.array(TEXTS), verbose=0)


def test_fit_evaluate_and_keras_file(model, tmp_path):
    labels = np.array([0, 1, 0])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(TEXTS, labels, epochs=1, verbose=0)
    assert np.isfinite(model.evaluate(np.array(TEXTS), labels, verbose=0))
    path = str(tmp_path / "text.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, TextModel)
    np.testing.assert_allclose(
        loaded.predict(TEXTS, verbose=0), model.predict(TEXTS, verbose=0), atol=1e-6
    )


def test_as_text_batch_leaves_other_inputs():
    ids = np.array([[1, 2]])
    assert as_text_batch(ids) is ids
    assert as_text_batch([1, 2]) == [1, 2]
    assert as_text_batch("x").tolist() == ["x"]
