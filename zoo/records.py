"""What a run records about itself: command, versions, machine, date, commit.

Written into every zoo run's `metrics.json` (`provenance`) and into every
results file of `bench/` (`bench/results.py`), so that a figure carries how,
where and when it was measured.
"""

import datetime
import os
import pathlib
import platform
import subprocess
import sys

PACKAGES = ("keras", "numpy", "tensorflow", "jax", "torch", "keras_hub")


def command(argv=None):
    """The command line that ran, as a user would type it: `python -m zoo
    train NAME ...` or `python bench/rnn.py ...`, after `KERAS_BACKEND=NAME`
    when the environment chose a backend other than TensorFlow. `argv`
    (default `sys.argv`, where a `python -m` run is recognised) starts with
    the script's path."""
    argv = sys.argv if argv is None else list(argv)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    prefix = [] if backend == "tensorflow" else [f"KERAS_BACKEND={backend}"]
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None) if argv is sys.argv else None
    if spec is not None and spec.name and argv[0].endswith(".py"):
        name = spec.name.removesuffix(".__main__")
        head = ["python", "-m", name]
    else:
        head = ["python", _relative(argv[0])]
    # Absolute paths inside the working directory (the repository) as
    # relative ones: `--results bench/results/rnn.json`, not the machine's.
    rest = [_relative(a) if os.path.isabs(a) else a for a in argv[1:]]
    return " ".join(prefix + head + rest)


def _relative(path):
    try:
        return pathlib.Path(path).resolve().relative_to(pathlib.Path.cwd()).as_posix()
    except ValueError:
        return path


def versions():
    """`{package: version}` of the packages of this list already imported."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "__version__"):
            found[name] = module.__version__
    if "keras" in sys.modules:
        found["backend"] = sys.modules["keras"].backend.backend()
    return found


def machine():
    """The CPU model and core count, and the GPU when one is visible."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} cores"
    try:
        gpus = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        gpus = []
    gpus = [g.strip() for g in gpus if g.strip()]
    if gpus:
        text += f", {len(gpus)} x {gpus[0]}"
    return text


def _git(directory, *args):
    return subprocess.run(
        ["git", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout.strip()


def commit(directory=None):
    """The checkout's short commit, with `+changes` when files differ from
    it (the results files the benchmarks write, `bench/results/`, aside);
    None outside a git checkout."""
    directory = directory or pathlib.Path(__file__).resolve().parent.parent
    try:
        head = _git(directory, "rev-parse", "--short", "HEAD")
        dirty = _git(
            directory,
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":(exclude)bench/results",
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+changes" if dirty else "")


def provenance(argv=None):
    """`{command, date, machine, versions, commit}` of this run."""
    return {
        "command": command(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        "machine": machine(),
        "versions": versions(),
        "commit": commit(),
    }
