"""keras_seq's C++ TensorFlow ops: built on first use, then loaded.

`build(source)` compiles one `.cc` file against the installed TensorFlow's
headers with the system's `g++` into a cache folder (`$KERAS_SEQ_CACHE`,
default `~/.cache/keras_seq`), named by a hash of the source, the TensorFlow
version, the compile flags and the CPU; `load(source, ...)` loads it with
`tf.load_op_library`. Where it cannot be built (no compiler, no TensorFlow
headers) `load` returns None with a warning, and the caller falls back to
pure TensorFlow. The ops: the word2vec step (`keras_seq.embeddings.kernels`)
and the recurrent loops (`keras_seq.layers.rnn.native_rnn`).
"""

import functools
import hashlib
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import warnings

from keras_seq.utils.cache import cache_root


def cache_folder():
    """Where built kernels are kept: `$KERAS_SEQ_CACHE` or `~/.cache/keras_seq`."""
    return cache_root() / "kernels"


def _cpu_description():
    try:
        lines = pathlib.Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    wanted = [line for line in lines if line.startswith(("model name", "flags"))]
    return "\n".join(wanted[:2])


# The CPU flags tried in turn. Eigen in TensorFlow 2.21's headers does not
# compile with AVX512-FP16 on (GCC 12 on a Sapphire Rapids Xeon: "expected
# initializer before '<' token" in Eigen/src/Core/arch/AVX512/PacketMathFP16.h),
# and the kernels have no half-precision code: the first set turns it off; the
# second is for a compiler that does not know the flag.
ARCH_FLAGS = (("-march=native", "-mno-avx512fp16"), ("-march=native",))


def _build_command(source, output, flags=ARCH_FLAGS[0]):
    import tensorflow as tf

    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        raise RuntimeError("no C++ compiler (g++) found on PATH")
    return [
        compiler,
        "-shared",
        "-fPIC",
        "-O3",
        *flags,
        "-fopenmp-simd",
        "-w",
        str(source),
        "-o",
        str(output),
        *tf.sysconfig.get_compile_flags(),
        *tf.sysconfig.get_link_flags(),
    ]


def library_path(source, flag_sets=ARCH_FLAGS):
    """The path the built library of `source` has for this TensorFlow and CPU."""
    import tensorflow as tf

    source = pathlib.Path(source)
    digest = hashlib.sha256()
    for part in (
        source.read_bytes(),
        tf.__version__.encode(),
        repr(
            [_build_command(source, "out", flags)[1:] for flags in flag_sets]
        ).encode(),
        _cpu_description().encode(),
    ):
        digest.update(part)
    return cache_folder() / f"{source.stem}_{digest.hexdigest()[:16]}.so"


def build(source, verbose=False, flag_sets=ARCH_FLAGS):
    """Compiles `source` unless it is built already; returns the library's path.

    Tries each set of compiler flags of `flag_sets` in turn until one builds.
    """
    path = library_path(source, flag_sets)
    if path.exists():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: the temporary folder instead
        path = pathlib.Path(tempfile.gettempdir()) / "keras_seq_kernels" / path.name
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
    # Built under a temporary name and renamed: parallel builders (pytest
    # workers) never load a half-written file.
    handle, temporary = tempfile.mkstemp(suffix=".so", dir=path.parent)
    os.close(handle)
    errors = []
    for flags in flag_sets:
        command = _build_command(source, temporary, flags)
        if verbose:
            print(" ".join(command), file=sys.stderr)
        result = subprocess.run(command, check=False, capture_output=True, text=True)
        if result.returncode == 0:
            os.replace(temporary, path)
            return path
        errors.append(f"with {' '.join(flags)}:\n{result.stderr[-2000:]}")
    os.unlink(temporary)
    raise RuntimeError(
        f"building {pathlib.Path(source).name} failed:\n" + "\n".join(errors)
    )


@functools.cache
def load(source, fallback, flag_sets=ARCH_FLAGS):
    """The loaded op library of `source` (built with the first of `flag_sets`
    that builds), or None with a warning saying that `fallback` (what runs
    instead) is used, where it cannot be built."""
    import tensorflow as tf

    try:
        return tf.load_op_library(str(build(source, flag_sets=flag_sets)))
    except Exception as error:  # noqa: BLE001 - any failure means "fall back"
        warnings.warn(
            f"The C++ kernel {pathlib.Path(source).name} is not available "
            f"({error}); {fallback}.",
            stacklevel=3,
        )
        return None
