"""The keras_seq model zoo: `names()`, `build(name, preset)`, `load(path)`.

Each task lives in a package `zoo/<task>/` with `configs.py` (`PRESETS[name]`,
`default` and `tiny` among them), `input_pipeline.py`, `model.py`, `train.py`
(`train_and_evaluate`, `evaluate`, `export`, `predict_rows`) and `serve.py`:
the contract is written in `zoo/task.py` and checked for every task by a
test; `python -m zoo train|evaluate|export|predict NAME` drives them. The
tasks share `zoo.training` (the pipeline), `zoo.distribute`,
`zoo.text_inputs` and `zoo.served`, which know no task.

In a checkout the package is `zoo`; the wheel installs it as `keras_seq_zoo`
(`pip install 'keras_seq[zoo]'`), with the command `keras-seq-zoo`.
"""

import importlib
import importlib.util
import os

from .served import ServedModel, load_served, register_served, text_batch

__all__ = [
    "COMMAND",
    "MODELS",
    "NEEDS",
    "ServedModel",
    "build",
    "check_installed",
    "config",
    "load",
    "module",
    "names",
    "parse_overrides",
    "recorded_config",
    "recorded_model",
    "register_served",
    "text_batch",
]

# The command that runs the CLI: `python -m zoo` in a checkout, the console
# script where the wheel installed the zoo as `keras_seq_zoo`.
COMMAND = "python -m zoo" if __name__ == "zoo" else "keras-seq-zoo"

# Models with the common interface (the adding problem and word2vec have CLIs
# of their own: `python -m zoo.adding_problem`, `python -m zoo.word2vec`),
# each a subpackage of this one.
MODELS = {
    "lm_ptb": "language_model",
    "pos_zh": "tagger",
    "sentiment_en": "sentiment",
    "sentiment_zh": "sentiment",
    "translate_rnn": "translation",
    "translate_transformer": "translation",
}


# What the zoo's models import beyond Keras and keras_seq (module: pip
# package); `pip install 'keras_seq[zoo]'` brings them. (The corpora's own
# packages are checked by their loaders, before training too.)
NEEDS = {
    "pos_zh": {"tensorflow": "tensorflow"},
    "sentiment_en": {"tensorflow": "tensorflow"},
    "sentiment_zh": {"tensorflow": "tensorflow"},
    # Both translation models read WordPiece subwords (keras-hub's tokenizer,
    # whose ops come from tensorflow-text).
    "translate_rnn": {
        "tensorflow": "tensorflow",
        "tensorflow_text": "tensorflow-text",
        "keras_hub": "keras-hub",
        "sacrebleu": "sacrebleu",
    },
    "translate_transformer": {
        "tensorflow": "tensorflow",
        "tensorflow_text": "tensorflow-text",
        "keras_hub": "keras-hub",
        "sacrebleu": "sacrebleu",
    },
}
ZOO_EXTRA = "pip install 'keras_seq[zoo]'"


def check_installed(name):
    """ModuleNotFoundError naming the pip command unless what model `name`
    needs is installed: checked when its package is imported and again before
    its data loads and its `fit` starts, never found missing after training."""
    missing = [
        package
        for module, package in NEEDS.get(name, {}).items()
        if importlib.util.find_spec(module) is None
    ]
    if missing:
        raise ModuleNotFoundError(
            f"{name} needs {', '.join(missing)}, not installed here: {ZOO_EXTRA}"
        )


def names():
    """Names of the models `build`, `load` and the CLI know."""
    return sorted(MODELS)


def module(name):
    """The package of `name` (its `PRESETS`, `build_classifier`, `train`)."""
    if name not in MODELS:
        raise ValueError(f"Unknown zoo model {name!r}, expected one of {names()}.")
    check_installed(name)
    return importlib.import_module(f"{__name__}.{MODELS[name]}")


def config(name, preset="default", **overrides):
    """The preset's `Config`, with fields replaced by `overrides`."""
    import dataclasses

    presets = module(name).PRESETS[name]
    if preset not in presets:
        raise ValueError(
            f"Unknown preset {preset!r} of {name}, expected one of {sorted(presets)}."
        )
    return dataclasses.replace(presets[preset], **overrides)


def parse_overrides(name, preset, assignments):
    """`["decay_after=7", ...]` as config overrides, typed like the preset's fields.

    Raises ValueError naming the fields there are for an unknown field, and
    the type expected for a value that does not parse.
    """
    import dataclasses

    kinds = {
        field.name: field.type for field in dataclasses.fields(config(name, preset))
    }
    # `name` picks the model: not a setting.
    fields = sorted(key for key in kinds if key != "name")
    overrides = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep or key not in fields:
            raise ValueError(
                f"Expected FIELD=VALUE with FIELD one of {fields} "
                f"(the fields of {name}'s config), got {assignment!r}."
            )
        kind = kinds[key]
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                value = text.lower() in ("true", "1")
            elif kind is str and text.lower() == "none":
                value = None  # e.g. `standardize`: no standardisation
            elif kind in (int, float, str):
                value = kind(text)
            else:
                raise ValueError(f"{key} is a {kind.__name__}")
        except ValueError:
            raise ValueError(
                f"Expected a value of type {kind.__name__} for {key}, got {text!r}."
            ) from None
        overrides[key] = value
    return overrides


def recorded_model(workdir):
    """The model name a finished training run wrote to `workdir/metrics.json`.

    None when there is no such file, or it names no model.
    """
    metrics = _recorded_metrics(workdir)
    return metrics.get("model") if metrics else None


def _recorded_metrics(workdir):
    import json

    path = os.path.join(workdir, "metrics.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        metrics = json.loads(text)
    except ValueError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}): expected the metrics a training "
            "run writes; remove it, or give another --workdir."
        ) from None
    return metrics if isinstance(metrics, dict) else None


def recorded_config(name, workdir):
    """The config a finished training run of `name` wrote to `workdir/metrics.json`.

    None when there is no such file or it records another model. Fields the
    current `Config` lacks are dropped; fields added since keep the
    `default` preset's values.
    """
    import dataclasses

    metrics = _recorded_metrics(workdir)
    if (
        metrics is None
        or metrics.get("model") != name
        or not isinstance(metrics.get("config"), dict)
    ):
        return None
    base = config(name)
    fields = {field.name for field in dataclasses.fields(base)} - {"name"}
    recorded = {k: v for k, v in metrics["config"].items() if k in fields}
    return dataclasses.replace(base, **recorded)


def build(name, preset="default"):
    """The untrained Keras model of `name` with the preset's sizes."""
    settings = config(name, preset)
    return module(name).build(settings)


def load(path):
    """A trained model: a `.keras` file (Keras model) or a SavedModel directory.

    A SavedModel comes back as `ServedModel`, whose `__call__(texts)` runs the
    `serving_default` signature and returns NumPy arrays.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No such file or directory: {path!r}. Expected a `.keras` file or "
            "a SavedModel directory (`python -m zoo train NAME --workdir DIR` "
            "writes DIR/model.keras and DIR/export)."
        )
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb")):
        _import_tasks()  # they register their `ServedModel` subclasses
        return load_served(path)
    if path.endswith(".keras") and os.path.isfile(path):
        import keras

        _import_tasks()  # they register their layers
        return keras.saving.load_model(path)
    if os.path.isdir(path):
        raise ValueError(
            f"Expected a `.keras` file or a SavedModel directory, got the "
            f"directory {path!r} without saved_model.pb."
        )
    raise ValueError(
        f"Expected a `.keras` file or a SavedModel directory, got the file "
        f"{path!r}, whose name does not end in `.keras`."
    )


def _import_tasks():
    """Imports keras_seq and every task package: what they register (layers,
    `ServedModel` subclasses) is then known."""
    import keras_seq  # noqa: F401

    for package in sorted(set(MODELS.values())):
        importlib.import_module(f"{__name__}.{package}")
