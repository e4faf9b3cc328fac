import os
import pathlib

import pytest

# Two pytest workers share the 2-core CI machine: keep TF's pools small.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# `make check` runs the tests not marked slow (`-m "not slow"`): everything
# under these folders (zoo trainings, SavedModel exports, the studies'
# scripts) and each test marked `@pytest.mark.slow` elsewhere.
SLOW_FOLDERS = ("zoo", "export", "bench")
TESTS = pathlib.Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = pathlib.Path(str(item.fspath))
        if (
            path.is_relative_to(TESTS)
            and path.relative_to(TESTS).parts[0] in SLOW_FOLDERS
        ):
            item.add_marker(pytest.mark.slow)
