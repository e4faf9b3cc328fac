"""The contract every zoo task fulfils, in one place.

A task is a package `zoo/<task>/` registered in `zoo.MODELS`. The package
itself is a `TaskPackage`; its `train` module is a `TaskTrainer`. The CLI
(`python -m zoo train|evaluate|export|predict NAME`) and `zoo.build` /
`zoo.config` use nothing else, and `tests/zoo/test_task_contract.py`
checks every registered task against these signatures.
"""

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class TaskPackage(Protocol):
    """`zoo/<task>/__init__.py`: the presets, the config class and `build`."""

    # `{model name: {preset name: Config}}`; every model has "default" and "tiny".
    PRESETS: dict
    # A frozen dataclass subclassing `zoo.task_config.TaskConfig` (the
    # fields every task has: name, dataset, batch size, epochs, rate,
    # clipping, dropout, limits, seed), whose `__post_init__` checks every
    # field.
    Config: type
    # Its `train` module (a `TaskTrainer`).
    train: Any

    def build(self, config) -> Any:
        """The untrained Keras model of `config`'s sizes."""


@runtime_checkable
class TaskTrainer(Protocol):
    """`zoo/<task>/train.py`: train, evaluate, export and predict."""

    def train_and_evaluate(self, config, workdir, strategy=None) -> dict:
        """Trains on the config's data and writes to `workdir`: `model.keras`,
        the SavedModel `export/` (TensorFlow backend), the figures and
        `metrics.json`, whose dict it returns. `strategy`: a
        `tf.distribute` strategy, or None for one device. Written with the
        shared pipeline: `zoo.training.prepare`, `fit` and `finish`."""

    def evaluate(self, model, config, workdir) -> dict:
        """The test-split metrics of a trained `model` (loaded from
        `workdir/model.keras`), as `metrics.json` records them."""

    def export(self, model, path, config=None) -> str:
        """Writes the SavedModel of `model` to `path` (beside the files its
        training wrote in the work directory) and returns `path`."""

    def predict_rows(self, model, texts, config=None, workdir=None) -> list:
        """One printable answer per text, from the SavedModel `zoo.load`
        returns or the `.keras` model."""
