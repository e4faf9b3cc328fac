"""Optimizer utilities: gradient clipping that clips the whole batch's gradient."""

from keras_seq.optimizers.exact_clipping import with_exact_clipping

__all__ = ["with_exact_clipping"]
