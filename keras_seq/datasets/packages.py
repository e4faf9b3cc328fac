"""Finding data files inside installed packages (docs/datasets.md); no downloads."""

import importlib.util
import os


def package_file(package, relative, install):
    """Path of `relative` inside the installed `package`, without importing it.

    Raises:
        ModuleNotFoundError: naming the package and the command `install`
            that provides it, when the package is missing.
        FileNotFoundError: when the package lacks the file (another version).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"This dataset is read from the `{package}` package, which is not "
            f"installed. Install it with: {install}",
            name=package,
        )
    path = os.path.join(os.path.dirname(spec.origin), relative)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"The installed `{package}` package has no {relative!r}; "
            f"reinstall it with: {install}"
        )
    return path


def read_lines(path):
    """The stripped, non-empty lines of a UTF-8 text file."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]
