"""The word2vec CPU kernel (`word2vec_kernels.cc`): built on first use, then loaded.

`load()` compiles the C++ file against the installed TensorFlow's headers
with the system's `g++` into a cache folder (`$KERAS_SEQ_CACHE`, default
`~/.cache/keras_seq`), named by a hash of the source, the TensorFlow version,
the compile flags and the CPU, and loads it with `tf.load_op_library`
(`keras_seq.utils.native_ops`). `make` builds it ahead (`python -m
keras_seq.embeddings.kernels`, which builds the recurrent loops' ops too).
Where it cannot be built (no compiler, no TensorFlow headers) `load()`
returns None with a warning, and training falls back to the pure
TensorFlow step.
"""

import pathlib

from keras_seq.utils import native_ops

SOURCE = pathlib.Path(__file__).with_name("word2vec_kernels.cc")


def build(verbose=False):
    """Compiles the kernel unless it is built already; returns its path."""
    return native_ops.build(SOURCE, verbose=verbose)


def load():
    """The loaded op library, or None (with a warning) where it cannot be built."""
    return native_ops.load(SOURCE, "training uses the slower pure TensorFlow step")


if __name__ == "__main__":
    from keras_seq.layers.rnn import native_rnn

    print(build(verbose=True))
    print(native_rnn.build(verbose=True))
