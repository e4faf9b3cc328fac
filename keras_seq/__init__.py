"""keras_seq: sequence-model building blocks for Keras 3."""

from keras_seq import decoding, embeddings, layers, metrics, models, optimizers

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "decoding",
    "embeddings",
    "layers",
    "metrics",
    "models",
    "optimizers",
]
