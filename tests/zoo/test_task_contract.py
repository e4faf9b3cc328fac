"""Every registered zoo task fulfils the contract of `zoo/task.py`, with the
signatures the CLI calls."""

import dataclasses
import inspect

import pytest

import zoo
from zoo.task import TaskPackage, TaskTrainer
from zoo.task_config import TaskConfig

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
    # The shared fields come first, declared once.
    assert issubclass(package.Config, TaskConfig)
    shared = [field.name for field in dataclasses.fields(TaskConfig)]
    assert [f.name for f in dataclasses.fields(package.Config)][: len(shared)] == shared
    for preset in presets.values():
        assert isinstance(preset, package.Config)
    inspect.signature(package.build).bind("config")
    for function, (args, kwargs) in CALLS.items():
        inspect.signature(getattr(package.train, function)).bind(*args, **kwargs)


def test_task_config_checks_the_shared_fields_of_every_task():
    for name in zoo.names():
        for field, value in (("epochs", 0), ("dropout", 1.0), ("eval_limit", -1)):
            with pytest.raises(ValueError, match=f"`{field}` of {name}'s config"):
                zoo.config(name, **{field: value})
