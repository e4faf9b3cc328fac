"""`export_text_classifier`: the served ids, with and without `cut_padding`."""

import keras
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from keras_seq.export import export_text_classifier


class IdsSeen(keras.layers.Layer):
    """Ids `(batch, time)` -> `[time / 100, sum of the ids / 1000]` per text:
    what the model was given, read back from `probabilities`."""

    def call(self, ids):
        time = keras.ops.cast(keras.ops.shape(ids)[1], "float32")
        total = keras.ops.sum(keras.ops.cast(ids, "float32"), axis=1) / 1000
        return keras.ops.stack([keras.ops.ones_like(total) * time / 100, total], -1)


def served(tmp_path, cut_padding, texts):
    vectorizer = keras.layers.TextVectorization(output_sequence_length=9)
    vectorizer.adapt(["a b c d e f g h i j"])
    vectorizer(tf.constant(["a"]))  # built: an export needs built layers
    ids = keras.Input((None,), dtype="int64")
    model = keras.Model(ids, IdsSeen()(ids))
    path = str(tmp_path / f"cut{cut_padding}")
    export_text_classifier(path, model, vectorizer, ["x", "y"], cut_padding)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    probabilities = serve(texts=tf.constant(texts))["probabilities"].numpy()
    full = vectorizer(tf.constant(texts)).numpy().sum(1) / 1000
    np.testing.assert_allclose(probabilities[:, 1], full, rtol=1e-6)  # no id lost
    return set(np.round(probabilities[:, 0] * 100).astype(int))


@pytest.mark.parametrize(
    ("cut_padding", "texts", "time"),
    [
        (0, ["a b"], 9),  # as the vectorizer pads
        (1, ["a b", "c"], 2),  # the longest text
        (2, ["a b c", ""], 4),  # rounded up to a multiple of 2
        (2, ["", ""], 2),  # at least one group
        (4, ["a b c d e f g h i j"], 9),  # never past the vectorizer's length
        (1, ["zz zz zz"], 3),  # unknown words (id 1) are kept
    ],
)
def test_cut_padding_gives_the_batch_its_own_length(tmp_path, cut_padding, texts, time):
    assert served(tmp_path, cut_padding, texts) == {time}


@pytest.mark.parametrize("cut_padding", [-1, 1.5, "2"])
def test_cut_padding_must_be_a_non_negative_integer(tmp_path, cut_padding):
    with pytest.raises(ValueError, match="`cut_padding`, expected a non-negative"):
        served(tmp_path, cut_padding, ["a"])
