"""keras_seq's cache folder: built kernels, decoded corpora."""

import os
import pathlib


def cache_root():
    """`$KERAS_SEQ_CACHE`, or `~/.cache/keras_seq` when it is not set."""
    return pathlib.Path(
        os.environ.get("KERAS_SEQ_CACHE")
        or os.path.join(os.path.expanduser("~"), ".cache", "keras_seq")
    )
