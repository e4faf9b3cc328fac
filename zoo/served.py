"""Exported SavedModels called from Python as TF Serving calls them."""

import importlib.util


def text_batch(texts):
    """`texts` as the `(batch,)` tf.string tensor a text signature takes.

    One `str` or `bytes` is a batch of one (`list("ab")` would be two
    texts); anything but a flat sequence of strings is refused.
    """
    import numpy as np
    import tensorflow as tf

    if isinstance(texts, tf.Tensor) and texts.dtype == tf.string:
        texts = texts.numpy()
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    if isinstance(texts, np.ndarray) and texts.ndim == 0:
        texts = [texts.item()]
    if isinstance(texts, np.ndarray) and texts.ndim != 1:
        texts = [texts]  # refused below, naming its first element
    try:
        texts = list(texts)
    except TypeError:
        texts = [texts]
    for text in texts:
        if not isinstance(text, (str, bytes, np.str_, np.bytes_)):
            raise TypeError(
                "Expected texts: a string or a list of strings (str or UTF-8 "
                f"bytes), got an element of type {type(text).__name__}: "
                f"{text!r:.60}."
            )
    return tf.constant(texts, tf.string, shape=(len(texts),))


class ServedModel:
    """An exported SavedModel, called like TF Serving calls it.

    Args:
        path: The SavedModel directory.
        saved: The object `tf.saved_model.load(path)` returned, if loaded
            already (`load_served`); loaded here otherwise.
    """

    def __init__(self, path, saved=None):
        self.path = path
        self.saved = _load(path) if saved is None else saved
        self.signature = self.saved.signatures["serving_default"]

    def __call__(self, texts):
        """The signature's outputs (NumPy) for `texts`: a list of strings
        (`str` or UTF-8 `bytes`), or one string, read as a batch of one."""
        outputs = self.signature(texts=text_batch(texts))
        return {k: v.numpy() for k, v in outputs.items()}


def _load(path):
    """`tf.saved_model.load(path)`, tensorflow-text's ops registered if installed."""
    if importlib.util.find_spec("tensorflow") is None:
        raise ModuleNotFoundError(
            f"Loading the SavedModel {path} needs TensorFlow, which is not "
            "installed here: pip install 'keras_seq[tensorflow]'",
            name="tensorflow",
        )
    import tensorflow as tf

    if importlib.util.find_spec("tensorflow_text") is not None:
        import tensorflow_text  # noqa: F401  (registers its ops, as TF Serving has them)

    return tf.saved_model.load(path)


# `ServedModel` subclasses by a signature their SavedModels have: a task
# registers the class of its exports (`register_served`) and `zoo.load`
# returns it for such a SavedModel.
SERVED_CLASSES = {}


def register_served(signature, cls):
    """`zoo.load` returns `cls` (a `ServedModel`) for SavedModels with `signature`."""
    if not (isinstance(cls, type) and issubclass(cls, ServedModel)):
        raise TypeError(f"Expected a subclass of ServedModel, got {cls!r}.")
    SERVED_CLASSES[signature] = cls
    return cls


def load_served(path):
    """The SavedModel at `path` as the `ServedModel` its signatures call for:
    the class registered for one of them, else `ServedModel`."""
    saved = _load(path)
    for signature, cls in SERVED_CLASSES.items():
        if signature in saved.signatures:
            return cls(path, saved)
    return ServedModel(path, saved)
