"""Whether a model is being traced for export (`keras_seq.export.exportable`).

While set, keras_seq's TensorFlow recurrent loops trace without XLA (a
compiled loop converts to neither ONNX nor LiteRT) and gather their outputs
in a tensor rather than a TensorArray (LiteRT lowers TensorArrays only when
the batch size is fixed).
"""

import contextlib
import threading

_state = threading.local()


def is_exporting():
    """Whether `exporting()` is active in this thread."""
    return getattr(_state, "depth", 0) > 0


@contextlib.contextmanager
def exporting():
    """Traces inside the block take their export form."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
