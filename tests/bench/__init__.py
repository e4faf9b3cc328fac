import importlib.util
import pathlib

STUDIES = pathlib.Path(__file__).parents[2] / "bench" / "studies"


def load_script(name):
    """`bench/studies/<name>.py` as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, STUDIES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
