import os
import pathlib

import pytest

# Two pytest workers share the 2-core CI machine: keep TF's pools small.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The tests compile hundreds of small XLA programs (JAX, and TensorFlow's
# `jit_compile`): LLVM at its lowest level compiles them faster (the JAX
# suite takes about 20 % less time) and computes the same numbers, since
# neither level allows fast-math rewrites.
os.environ.setdefault(
    "XLA_FLAGS",
    "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true",
)

# `make check` runs the tests not marked slow (`-m "not slow"`): everything
# under these folders (zoo trainings, SavedModel exports, the studies'
# scripts) and each test marked `@pytest.mark.slow` elsewhere.
SLOW_FOLDERS = ("zoo", "export", "bench")
TESTS = pathlib.Path(__file__).parent


# The order pytest-xdist hands modules out in (`make test` runs it with
# `--no-loadscope-reorder`): the longest first, so that the many short
# modules at the end keep both workers busy. The distribution tests train
# in subprocesses (minutes each), then the slow folders, then the rest.
LONGEST = (
    "tests/zoo/test_distribution.py",
    "tests/zoo/test_distribution_translation.py",
    "tests/zoo/test_multiworker.py",
)


def rank(path):
    if not path.is_relative_to(TESTS):
        return 2  # the docstring examples
    if path.relative_to(TESTS.parent).as_posix() in LONGEST:
        return 0
    return 1 if path.relative_to(TESTS).parts[0] in SLOW_FOLDERS + ("docs",) else 2


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = pathlib.Path(str(item.fspath))
        if (
            path.is_relative_to(TESTS)
            and path.relative_to(TESTS).parts[0] in SLOW_FOLDERS
        ):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: rank(pathlib.Path(str(item.fspath))))
