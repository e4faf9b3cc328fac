"""Peak heap memory of one call, for the bench/ scripts.

TensorFlow, JAX's CPU client and PyTorch all allocate CPU tensors with the C
library's `malloc` / `posix_memalign`, so the bytes that glibc's allocator has
handed out and not yet taken back (`mallinfo2()`: `uordblks + hblkhd`) are
the bytes of every live tensor, whatever the framework. A thread samples them
while the call runs; the peak above the level before the call is the call's
working memory (activations kept for the backward pass, gradients, scratch),
not the weights that were already there.

`mallinfo2` counts glibc's main arena only, so the process must run with
`MALLOC_ARENA_MAX=1` (one arena for every thread), and with
`TF_ENABLE_ONEDNN_OPTS=0`: TensorFlow's oneDNN build allocates the tensors of
its graph ops from its own pool, which keeps what it took from malloc
(XLA-compiled functions allocate from malloc either way). `measured_env()`
is the environment to start it with. Linux with glibc 2.33 or later.
"""

import ctypes
import ctypes.util
import os
import statistics
import threading
import time

# Between samples: the tensors a step keeps for its backward pass live for
# milliseconds, far longer.
SAMPLE_SECONDS = 50e-6

_FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _FIELDS.split()]


def _libc():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallinfo2"):
        return None
    libc.mallinfo2.restype = _MallInfo2
    return libc


_LIBC = _libc()


def available():
    """Whether this process can measure: glibc's `mallinfo2`, one arena."""
    environ = os.environ
    return (
        _LIBC is not None
        and environ.get("MALLOC_ARENA_MAX") == "1"
        and environ.get("TF_ENABLE_ONEDNN_OPTS") == "0"
    )


def measured_env():
    """The environment of a child process that can measure."""
    return {**os.environ, "MALLOC_ARENA_MAX": "1", "TF_ENABLE_ONEDNN_OPTS": "0"}


def heap_in_use():
    """Bytes malloc has handed out and not had back, in this process."""
    info = _LIBC.mallinfo2()
    return info.uordblks + info.hblkhd


def peak_during(function, repeats=3):
    """Median over `repeats` calls of the peak bytes in use above the level
    before the call (run `function` once or twice first: compilation and
    first-call caches are not the call's memory)."""
    if not available():
        raise RuntimeError(
            "peak_during() needs glibc's mallinfo2, and MALLOC_ARENA_MAX=1 and "
            "TF_ENABLE_ONEDNN_OPTS=0 in the environment the process started "
            "with (bench/memory.py: measured_env())."
        )
    peaks = []
    for _ in range(repeats):
        peaks.append(_one_peak(function))
    return statistics.median(peaks)


def _one_peak(function):
    done = threading.Event()
    base = heap_in_use()
    peak = [base]

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], heap_in_use())
            # Lets go of the GIL: an eager loop (PyTorch) needs it at every op.
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        function()
    finally:
        done.set()
        sampler.join()
    return max(peak[0], heap_in_use()) - base
