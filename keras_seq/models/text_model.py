"""A functional model over raw strings that takes strings as Python gives them."""

import keras
import numpy as np


def as_text_batch(texts):
    """`texts` as a `(batch,)` NumPy object array of strings.

    One `str` or `bytes` is a batch of one; a list or tuple of strings and a
    NumPy array of `str` (`<U..`) or `bytes` (`S..`) become the object
    array of `str` (UTF-8 decoded) that Keras's TensorFlow data path
    accepts. Tensors and anything else
    pass unchanged (Keras checks them).
    """
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    if isinstance(texts, np.ndarray) and texts.dtype.kind in "US":
        texts = texts.tolist() if texts.ndim == 1 else texts
    if isinstance(texts, (list, tuple)) and all(
        isinstance(t, (str, bytes, np.str_, np.bytes_)) for t in texts
    ):
        # Keras's data path takes an object array of `str`, not of `bytes`.
        strings = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in texts]
        batch = np.empty(len(strings), dtype=object)
        batch[:] = strings
        return batch
    return texts


@keras.saving.register_keras_serializable(package="keras_seq")
class TextModel(keras.Model):
    """A functional model whose input is a `(batch,)` string tensor.

    `keras.Model(texts, outputs)` over `keras.Input((), dtype="string")`
    refuses a Python list of strings (`model(["a b", "c"])` reads it as two
    inputs, `predict` as unknown data) and a NumPy `str` array in
    `predict` ("Invalid dtype: str96"). `TextModel(texts, outputs)` is the
    same functional model whose `__call__`, `predict`, `predict_on_batch`
    and `evaluate` / `fit` inputs take a string, a list of strings or a
    NumPy string array as a batch of texts. It saves to and loads from
    `.keras` like any functional model. String inputs need the TensorFlow
    backend (JAX and PyTorch arrays hold no strings).

    Example (TensorFlow backend):

    ```python
    vectorizer = keras.layers.TextVectorization(output_sequence_length=3)
    vectorizer.adapt(["a b c", "d"])
    texts = keras.Input((), dtype="string")
    model = TextModel(texts, vectorizer(texts))
    model.predict(["a b", "d"])  # (2, 3) ids
    model("a b c")  # one string: a batch of one
    ```
    """

    def __call__(self, inputs, *args, **kwargs):
        return super().__call__(as_text_batch(inputs), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(as_text_batch(x), *args, **kwargs)

    def predict_on_batch(self, x):
        return super().predict_on_batch(as_text_batch(x))

    def evaluate(self, x=None, *args, **kwargs):
        return super().evaluate(as_text_batch(x), *args, **kwargs)

    def fit(self, x=None, *args, **kwargs):
        return super().fit(as_text_batch(x), *args, **kwargs)
