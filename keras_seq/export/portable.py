"""Export to ONNX, LiteRT or a SavedModel, checked in the format's own runtime.

`keras.Model.export` can write a file that its runtime then refuses (a graph
tf2onnx could not convert is written all the same, the failure only logged).
`export_model` exports, loads the file in ONNX Runtime, the LiteRT
interpreter or TensorFlow, runs examples through it and compares the outputs
with Keras's; anything else is an error, and the file is removed.
"""

import contextlib
import dataclasses
import importlib.util
import os

import keras
import numpy as np

from keras_seq.utils.exporting import exporting

FORMATS = ("onnx", "litert", "tf_saved_model")
EXTENSIONS = {"onnx": ".onnx", "litert": ".tflite"}

# Backends from which Keras exports each format.
BACKENDS = {
    "onnx": ("tensorflow", "jax", "torch"),
    "litert": ("tensorflow", "torch"),
    "tf_saved_model": ("tensorflow", "jax", "torch"),
}

# The package each format's runtime (and, per backend, its exporter) needs.
RUNTIMES = {
    "onnx": ("onnxruntime", "onnxruntime"),
    "litert": ("ai_edge_litert", "ai-edge-litert"),
    "tf_saved_model": ("tensorflow", "tensorflow"),
}
EXPORTERS = {
    ("onnx", "tensorflow"): ("tf2onnx", "tf2onnx"),
    ("onnx", "jax"): ("jax2onnx", "jax2onnx"),
    ("onnx", "torch"): ("onnxscript", "onnxscript"),
    ("litert", "tensorflow"): ("tensorflow", "tensorflow"),
    ("litert", "torch"): ("litert_torch", "litert-torch"),
    ("tf_saved_model", "jax"): ("tensorflow", "tensorflow"),
    ("tf_saved_model", "torch"): ("tensorflow", "tensorflow"),
}
# What `pip install 'keras_seq[export]'` brings.
IN_EXTRA = ("onnxruntime", "tf2onnx", "ai-edge-litert")


@dataclasses.dataclass(frozen=True)
class ExportedModel:
    """What `export_model` wrote and checked.

    Attributes:
        path: The file (ONNX, LiteRT) or directory (SavedModel).
        format: `"onnx"`, `"litert"` or `"tf_saved_model"`.
        max_difference: The largest difference between the runtime's and
            Keras's outputs over the examples, `max |runtime - keras|` over
            each output divided by `max(1, max |keras|)` (absolute for
            outputs within [-1, 1], relative for larger ones such as logits).
        shapes: The input shapes the runtime was run at.
    """

    path: str
    format: str
    max_difference: float
    shapes: tuple


class ExportError(RuntimeError):
    """An export that failed, or whose file does not run or match Keras."""


def export_model(
    model, path, format="onnx", examples=None, atol=1e-5, input_signature=None
):
    """Exports `model`, then loads the file in its runtime and checks it.

    The model is traced under `exportable()`: keras_seq's recurrent layers
    export their loops without XLA and without TensorArrays.

    Args:
        model: A built Keras model (a functional model, or one already called).
        path: Where to write: a `.onnx` file, a `.tflite` file, or a directory.
        format: `"onnx"` (ONNX Runtime), `"litert"` (the LiteRT interpreter,
            package `ai-edge-litert`) or `"tf_saved_model"` (TensorFlow).
        examples: Inputs to check with, as the model takes them (an array, or
            a list of arrays for several inputs), or a list of such inputs.
            By default random inputs (integers 1 and 2 where the model
            takes integers) with batch 2 and every other open dimension 6,
            then batch 3 and 10 (one example on PyTorch, whose exports have
            fixed shapes).
        atol: The largest difference from Keras's outputs allowed, measured
            as `ExportedModel.max_difference` (relative to the output's
            largest magnitude where that is above 1).
        input_signature: Passed on to `model.export`. By default the model's
            inputs with their open dimensions, except on PyTorch, where the
            first example's shapes are taken (Keras exports PyTorch models
            at fixed shapes only).

    Returns:
        An `ExportedModel`.

    Raises:
        ValueError: An unknown format, a backend Keras does not export it
            from, or a path without the format's extension.
        ModuleNotFoundError: The runtime or the exporter is not installed.
        ExportError: The export failed, the runtime refused the file, or its
            outputs differ from Keras's by more than `atol` (the file is
            removed).
    """
    backend = keras.backend.backend()
    if format not in FORMATS:
        raise ValueError(f"Expected `format` in {list(FORMATS)}, got {format!r}.")
    if backend not in BACKENDS[format]:
        raise ValueError(
            f"Keras exports {format!r} from the {' and '.join(BACKENDS[format])} "
            f"backends, not from KERAS_BACKEND={backend!r}."
        )
    extension = EXTENSIONS.get(format)
    if extension and not str(path).endswith(extension):
        raise ValueError(
            f"Expected a path ending in {extension!r} for format={format!r}, "
            f"got {str(path)!r}."
        )
    for module, package in (
        RUNTIMES[format],
        EXPORTERS.get((format, backend), RUNTIMES[format]),
    ):
        if importlib.util.find_spec(module) is None:
            install = "'keras_seq[export]'" if package in IN_EXTRA else package
            raise ModuleNotFoundError(
                f"Exporting to {format!r} from {backend} needs {package}, which "
                f"is not installed: pip install {install}",
                name=module,
            )
    if not model.built and examples is None:
        raise ValueError(
            "Expected a built model (a functional model, or one called once on "
            "inputs of the shapes it serves), or `examples` to build it with."
        )
    examples = _examples(model, examples, backend)
    if input_signature is None and backend == "torch":
        specs = [
            keras.InputSpec(shape=x.shape, dtype=str(x.dtype)) for x in examples[0]
        ]
        # One spec per argument of `model(...)`: several inputs are one list.
        input_signature = specs if len(specs) == 1 else [specs]
    path = str(path)
    # Keras exports only models that have been called.
    model(_call_form(examples[0]), training=False)
    with exportable():
        try:
            model.export(
                path, format=format, verbose=False, input_signature=input_signature
            )
        except Exception as error:
            _remove(path)
            raise ExportError(
                f"Exporting to {format!r} failed: {type(error).__name__}: {error}"
            ) from error
        try:
            run = runtime_runner(format, path, _input_names(model, input_signature))
        except Exception as error:
            _remove(path)
            raise ExportError(
                f"{RUNTIMES[format][1]} refused the exported file ({path}, removed): "
                f"{type(error).__name__}: {error}"
            ) from error
        worst = 0.0
        for inputs in examples:
            expected = [
                keras.ops.convert_to_numpy(y)
                for y in keras.tree.flatten(model(_call_form(inputs), training=False))
            ]
            try:
                got = run(inputs)
            except Exception as error:
                _remove(path)
                raise ExportError(
                    f"{RUNTIMES[format][1]} failed to run the exported file on "
                    f"inputs of shapes {_shapes(inputs)} ({path}, removed): "
                    f"{type(error).__name__}: {error}"
                ) from error
            difference = _difference(expected, got)
            if difference is None or difference > atol:
                _remove(path)
                found = (
                    f"outputs of shapes {[np.shape(y) for y in got]} where Keras "
                    f"gives {[y.shape for y in expected]}"
                    if difference is None
                    else f"outputs {difference:.3g} away from Keras's"
                )
                raise ExportError(
                    f"The {format!r} export gives {found} on inputs of shapes "
                    f"{_shapes(inputs)}, more than atol={atol:g} ({path}, removed)."
                )
            worst = max(worst, difference)
    return ExportedModel(path, format, worst, tuple(_shapes(x) for x in examples))


@contextlib.contextmanager
def exportable():
    """Traces inside the block take the form that ONNX and LiteRT convert.

    keras_seq's recurrent layers on TensorFlow then loop without XLA and
    gather their outputs without a TensorArray. `export_model` uses it;
    call `model.export` inside it to export without the checks:

        from keras_seq.export import exportable

        with exportable():
            model.export("model.tflite", format="litert")

    Models traced before the block keep their traces (e.g. a `tf.function`
    of your own); Keras's export traces anew.
    """
    with exporting():
        yield


def _inputs_of(model):
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            "Expected `examples` for a model without `inputs` (a subclassed "
            "model): give arrays of the shapes it serves."
        )
    return inputs


def _examples(model, examples, backend):
    """A list of examples, each a list of NumPy arrays (one per input)."""
    if examples is None:
        sizes = [(2, 6)] if backend == "torch" else [(2, 6), (3, 10)]
        rng = np.random.default_rng(0)
        return [
            [_random(x.shape, x.dtype, batch, other, rng) for x in _inputs_of(model)]
            for batch, other in sizes
        ]
    number = len(_inputs_of(model)) if getattr(model, "inputs", None) else 1
    if isinstance(examples, np.ndarray) or (
        number > 1 and len(examples) == number and isinstance(examples[0], np.ndarray)
    ):
        examples = [examples]
    listed = []
    for inputs in examples:
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        listed.append([np.asarray(x) for x in inputs])
    return listed


def _random(shape, dtype, batch, other, rng):
    shape = [batch] + [other if d is None else d for d in shape[1:]]
    dtype = keras.backend.standardize_dtype(dtype)
    if dtype == "bool":
        return np.ones(shape, bool)
    if "int" in dtype:
        return rng.integers(1, 3, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _call_form(inputs):
    return inputs[0] if len(inputs) == 1 else list(inputs)


def _shapes(inputs):
    return [tuple(x.shape) for x in inputs]


def _difference(expected, got):
    if len(expected) != len(got) or any(
        np.shape(e) != np.shape(g) for e, g in zip(expected, got)
    ):
        return None
    return max(
        (
            float(np.max(np.abs(np.asarray(g, np.float64) - e), initial=0.0))
            / max(1.0, float(np.max(np.abs(e), initial=0.0)))
            for e, g in zip(expected, got)
        ),
        default=0.0,
    )


def _remove(path):
    import shutil

    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)


def _input_names(model, input_signature):
    """The inputs' names in order: the model's, else those of the specs."""
    inputs = getattr(model, "inputs", None)
    if inputs:
        return [x.name for x in inputs]
    names = [getattr(s, "name", None) for s in keras.tree.flatten(input_signature)]
    return names if names and all(names) else []


def _ordered(names, model_names):
    """The runtime's input names in the model's input order: by name where
    the export kept the model's names, else as the runtime lists them."""
    if sorted(names) == sorted(model_names):
        return list(model_names)
    return list(names)


def runtime_runner(format, path, model_names=()):
    """`inputs -> list of output arrays`: the exported file in its runtime
    (ONNX Runtime, the LiteRT interpreter, TensorFlow), inputs given in the
    order of `model_names` where the file kept those names."""
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = _ordered([x.name for x in session.get_inputs()], model_names)

        def run(inputs):
            return session.run(None, dict(zip(names, inputs)))

        return run
    if format == "litert":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=path)
        runner = interpreter.get_signature_runner()
        details = runner.get_input_details()
        names = _ordered(
            sorted(details, key=lambda name: details[name]["index"]), model_names
        )

        def run(inputs):
            outputs = runner(**dict(zip(names, inputs)))
            return [outputs[name] for name in sorted(outputs, key=_output_order)]

        return run
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    serve = loaded.signatures["serving_default"]
    names = _ordered(sorted(serve.structured_input_signature[1]), model_names)

    def run(inputs):
        outputs = serve(**{n: tf.constant(x) for n, x in zip(names, inputs)})
        return [outputs[name].numpy() for name in sorted(outputs, key=_output_order)]

    return run


def _output_order(name):
    """`output_10` after `output_2`: the number at the end of a name, if any."""
    stem = name.rstrip("0123456789")
    number = name[len(stem) :]
    return (stem, int(number) if number else -1)
