"""The word2vec CPU kernel (`word2vec_kernels.cc`): built on first use, then loaded.

`load()` compiles the C++ file against the installed TensorFlow's headers
with the system's `g++` into a cache folder (`$KERAS_SEQ_CACHE`, default
`~/.cache/keras_seq`), named by a hash of the source, the TensorFlow version,
the compile flags and the CPU, and loads it with `tf.load_op_library`. `make`
builds it ahead (`python -m keras_seq.embeddings.kernels`). Where it cannot be
built (no compiler, no TensorFlow headers) `load()` returns None with a
warning, and training falls back to the pure TensorFlow step.
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

SOURCE = pathlib.Path(__file__).with_name("word2vec_kernels.cc")


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
# and the kernel has no half-precision code: the first set turns it off; the
# second is for a compiler that does not know the flag.
ARCH_FLAGS = (("-march=native", "-mno-avx512fp16"), ("-march=native",))


def _build_command(output, arch_flags=ARCH_FLAGS[0]):
    import tensorflow as tf

    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        raise RuntimeError("no C++ compiler (g++) found on PATH")
    return [
        compiler,
        "-shared",
        "-fPIC",
        "-O3",
        *arch_flags,
        "-fopenmp-simd",
        "-w",
        str(SOURCE),
        "-o",
        str(output),
        *tf.sysconfig.get_compile_flags(),
        *tf.sysconfig.get_link_flags(),
    ]


def library_path():
    """The path the built kernel has for this source, TensorFlow and CPU."""
    import tensorflow as tf

    digest = hashlib.sha256()
    for part in (
        SOURCE.read_bytes(),
        tf.__version__.encode(),
        repr([_build_command("out", flags)[1:] for flags in ARCH_FLAGS]).encode(),
        _cpu_description().encode(),
    ):
        digest.update(part)
    return cache_folder() / f"word2vec_kernels_{digest.hexdigest()[:16]}.so"


def build(verbose=False):
    """Compiles the kernel unless it is built already; returns its path."""
    path = library_path()
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
    for flags in ARCH_FLAGS:
        command = _build_command(temporary, flags)
        if verbose:
            print(" ".join(command), file=sys.stderr)
        result = subprocess.run(command, check=False, capture_output=True, text=True)
        if result.returncode == 0:
            os.replace(temporary, path)
            return path
        errors.append(f"with {' '.join(flags)}:\n{result.stderr[-2000:]}")
    os.unlink(temporary)
    raise RuntimeError("building the word2vec kernel failed:\n" + "\n".join(errors))


@functools.cache
def load():
    """The loaded op library, or None (with a warning) where it cannot be built."""
    import tensorflow as tf

    try:
        return tf.load_op_library(str(build()))
    except Exception as error:  # noqa: BLE001 - any failure means "fall back"
        warnings.warn(
            f"The word2vec CPU kernel is not available ({error}); training uses "
            "the slower pure TensorFlow step.",
            stacklevel=2,
        )
        return None


if __name__ == "__main__":
    print(build(verbose=True))
