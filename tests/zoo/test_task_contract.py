"""Every registered zoo task fulfils the contract of `zoo/task.py`, with the
signatures the CLI calls."""

import dataclasses
import inspect

import pytest

import zoo
from zoo.task import TaskPackage, TaskTrainer

# How the CLI and `zoo.build` call a task (`zoo/__main__.py`).
CALLS = {
    "train_and_evaluate": (("config", "workdir", "strategy"), {}),
    "evaluate": (("model", "config", "workdir"), {}),
    "export": (("model", "path"), {"config": "config"}),
    "predict_rows": (("model", "texts"), {"config": "config", "workdir": "workdir"}),
}


@pytest.mark.parametrize("name", zoo.names())
def test_task_fulfils_the_contract(name):
    package = zoo.module(name)
    assert isinstance(package, TaskPackage)
    assert isinstance(package.train, TaskTrainer)
    presets = package.PRESETS[name]
    assert {"default", "tiny"} <= set(presets)
    assert dataclasses.is_dataclass(package.Config)
    assert package.Config.__dataclass_params__.frozen
    for preset in presets.values():
        assert isinstance(preset, package.Config)
    inspect.signature(package.build).bind("config")
    for function, (args, kwargs) in CALLS.items():
        inspect.signature(getattr(package.train, function)).bind(*args, **kwargs)
