"""Optimizer utilities: gradient clipping that clips the whole batch's gradient."""

from keras_seq.optimizers.exact_clipping import (
    exact_clipping_class,
    with_exact_clipping,
)

__all__ = ["exact_clipping_class", "with_exact_clipping"]
