import importlib.util
import pathlib

BENCH = pathlib.Path(__file__).parents[2] / "bench"


def load_script(name):
    """`bench/<name>.py` as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
