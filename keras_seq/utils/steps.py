"""Step indices that export: `0, 1, ..., n - 1` along an axis of a tensor."""

import keras
from keras import ops


def step_indices(x, axis):
    """`0, 1, ..., n - 1` (int32) for the `n` entries of `x` along `axis`.

    `ops.arange(ops.shape(x)[axis])` on TensorFlow and PyTorch. On JAX a
    cumulative sum along a slice of `x` instead: jax2onnx (ONNX export with
    open dimensions) gives `arange` of a symbolic length a shape that no
    longer broadcasts with `x`'s.
    """
    if keras.backend.backend() != "jax":
        return ops.arange(ops.shape(x)[axis], dtype="int32")
    axis = axis % len(x.shape)
    line = x[tuple(slice(None) if a == axis else 0 for a in range(len(x.shape)))]
    return ops.cumsum(ops.ones_like(line, dtype="int32")) - 1
