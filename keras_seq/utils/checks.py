"""Argument and input checks shared by keras_seq layers.

Every check raises `ValueError` naming the argument, what was expected and what
was received, so bad input never reaches an internal traceback.
"""

import math

import keras


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, "
            f"expected a positive integer, got {value!r}."
        )
    return value


def check_number(name, value, minimum=0.0, inclusive=False):
    """A finite int or float above `minimum` (or equal, with `inclusive`)."""
    valid = not isinstance(value, bool) and isinstance(value, (int, float))
    if valid:
        valid = math.isfinite(value) and (
            value >= minimum if inclusive else value > minimum
        )
    if not valid:
        bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
        raise ValueError(
            f"Received an invalid value for argument `{name}`, "
            f"expected a finite number {bound}, got {value!r}."
        )
    return value


def check_rate(name, value):
    valid = not isinstance(value, bool) and isinstance(value, (int, float))
    if not valid or not 0.0 <= value < 1.0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, "
            f"expected a float in [0, 1), got {value!r}."
        )
    return float(value)


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, "
            f"expected one of {list(choices)}, got {value!r}."
        )
    return value


def pop_legacy_implementation(kwargs):
    """Removes Keras's legacy recurrent `implementation` (0, 1 or 2) from `kwargs`.

    It only changes how Keras splits its matmuls, not the numbers: accepted
    (and checked) so that old configs load.
    """
    check_choice("implementation", kwargs.pop("implementation", 2), (0, 1, 2))


def check_rank(name, shape, rank, layout):
    """Checks that a tensor shape has `rank` dimensions, e.g. `layout="(batch, time, features)"`."""
    if shape is None or len(shape) != rank:
        received = None if shape is None else tuple(shape)
        raise ValueError(
            f"Argument `{name}` must have rank {rank} with shape {layout}, "
            f"got shape {received}."
        )


def check_min_rank(name, shape, rank, layout):
    """Checks that a tensor shape has at least `rank` dimensions."""
    if shape is None or len(shape) < rank:
        received = None if shape is None else tuple(shape)
        raise ValueError(
            f"Argument `{name}` must have rank {rank} or more with shape "
            f"{layout}, got shape {received}."
        )


def check_floating(name, tensor):
    dtype = keras.backend.standardize_dtype(tensor.dtype)
    if "float" not in dtype:
        raise ValueError(
            f"Argument `{name}` must be a floating point tensor "
            f"(e.g. float32), got dtype {dtype}."
        )


def as_floating(name, tensor, dtype):
    """`tensor` cast to `dtype` if it holds integers (as Keras's recurrent
    layers take them); refused unless integer or floating point."""
    kind = keras.backend.standardize_dtype(tensor.dtype)
    if "int" in kind:
        return keras.ops.cast(tensor, dtype)
    check_floating(name, tensor)
    return tensor


def check_mask(mask, inputs, name="mask"):
    """Checks a `(batch, time)` sequence mask against `(batch, time, ...)` inputs."""
    if mask is None:
        return None
    mask_shape = tuple(mask.shape)
    expected = tuple(inputs.shape[:2])
    compatible = len(mask_shape) == 2 and all(
        m is None or e is None or m == e for m, e in zip(mask_shape, expected)
    )
    if not compatible:
        raise ValueError(
            f"Argument `{name}` must have shape (batch, time) = {expected} "
            f"matching the inputs, got shape {mask_shape}."
        )
    return keras.ops.cast(mask, "bool")
