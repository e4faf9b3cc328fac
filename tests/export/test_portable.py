"""Every public layer exported to ONNX (TensorFlow, JAX, PyTorch) and LiteRT
(TensorFlow), loaded in ONNX Runtime or the LiteRT interpreter and compared
with Keras's outputs (`keras_seq.export.export_model`), at two input shapes
where the backend exports open dimensions; and a failed export is an error.

Runs on all three backends (`make test`)."""

import importlib.util
import os

import keras
import numpy as np
import pytest

from keras_seq import layers
from keras_seq.export import ExportError, export_model, exportable
from keras_seq.utils.exporting import is_exporting
from tests.layers.test_mixed_precision import CASES as LAYER_CASES

BACKEND = keras.backend.backend()
B, T, S, D = 2, 5, 7, 8


def _layer_model(name):
    """A functional model of one `LAYER_CASES` layer, time open."""
    make, shapes, second = LAYER_CASES[name]
    # `unroll=True` loops over a static number of steps.
    time = T if name == "LSTM-unrolled" else None
    inputs = [keras.Input((time, *shape[2:])) for shape in shapes]
    output = make()(inputs[0], **({second: inputs[1]} if second else {}))
    return keras.Model(inputs, output)


def _masked_bidirectional():
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, D, mask_zero=True)(tokens)
    return keras.Model(
        tokens, layers.Bidirectional(layers.LSTM(6, return_sequences=True))(x)
    )


def _attention_rnn():
    inputs, memory = keras.Input((None, 4)), keras.Input((None, D))
    wrapper = layers.AttentionWrapper(
        layers.GRUCell(D), layers.LuongAttention(), attention_layer_size=D
    )
    return keras.Model([inputs, memory], layers.AttentionRNN(wrapper)(inputs, memory))


def _known_length():
    """A loop of a known number of steps (a constant trip count)."""
    inputs = keras.Input((T, D))
    return keras.Model(inputs, layers.Bidirectional(layers.LSTM(6))(inputs))


def _cell_step(make, num_states):
    """One step of a cell: `(x_t, *states) -> (output, *new_states)`."""
    cell = make()
    x = keras.Input((D,))
    states = [keras.Input((6,)) for _ in range(num_states)]
    output, new_states = cell(x, states)
    return keras.Model([x, *states], [output, *new_states])


MODELS = {
    **{name: (lambda name=name: _layer_model(name)) for name in LAYER_CASES},
    "Bidirectional-masked": _masked_bidirectional,
    "AttentionRNN": _attention_rnn,
    "Bidirectional-known-length": _known_length,
    "SimpleRNNCell-step": lambda: _cell_step(lambda: layers.SimpleRNNCell(6), 1),
    "PeepholeLSTMCell-step": lambda: _cell_step(
        lambda: layers.PeepholeLSTMCell(6, use_peepholes=True), 2
    ),
    "GRUCell-step": lambda: _cell_step(lambda: layers.GRUCell(6, reset_after=False), 1),
}

# Cells inside `keras.layers.RNN` run Keras's TensorFlow loop, whose output
# TensorArray LiteRT lowers only at a fixed batch size; a cell's own step
# (`*-step`) and keras_seq's layers over it (`SimpleRNN`, `LSTM`, `GRU`) export.
KERAS_LOOP = ("SimpleRNNCell", "PeepholeLSTMCell", "GRUCell")

FORMATS = {
    "tensorflow": ("onnx", "litert"),
    "jax": ("onnx",),
    "torch": ("onnx",),
}[BACKEND]

EXTENSIONS = {"onnx": ".onnx", "litert": ".tflite"}

# What `export_model` needs on this backend, besides Keras.
NEEDS = {
    ("onnx", "tensorflow"): ("onnxruntime", "tf2onnx"),
    ("onnx", "jax"): ("onnxruntime", "jax2onnx"),
    ("onnx", "torch"): ("onnxruntime", "onnxscript"),
    ("litert", "tensorflow"): ("ai_edge_litert",),
}


def _skip_without(format):
    missing = [
        m for m in NEEDS[(format, BACKEND)] if importlib.util.find_spec(m) is None
    ]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


def _cases():
    for name in sorted(MODELS):
        for format in FORMATS:
            if format == "litert" and name in KERAS_LOOP:
                continue
            yield pytest.param(name, format, id=f"{name}-{format}")


@pytest.mark.parametrize(("name", "format"), list(_cases()))
def test_layer_exports_runs_and_matches(name, format, tmp_path):
    _skip_without(format)
    keras.utils.set_random_seed(0)
    model = MODELS[name]()
    path = str(tmp_path / f"model{EXTENSIONS[format]}")
    exported = export_model(model, path, format=format)
    assert os.path.exists(path)
    assert exported.max_difference <= 1e-5
    if BACKEND == "torch":
        # Keras exports PyTorch models at the example's shapes only.
        assert len(exported.shapes) == 1
    else:
        # Open dimensions: two batch sizes and (where open) two lengths.
        assert len(exported.shapes) == 2
        assert exported.shapes[0] != exported.shapes[1]
    # Run again here, at a shape of its own, straight in the runtime.
    # PyTorch: the one shape it was exported at (the first input's).
    batch, length = (4, 7)
    if BACKEND == "torch":
        batch, length = exported.shapes[0][0][:2]
    if name in ("LSTM-unrolled", "Bidirectional-known-length"):
        length = T
    inputs = [_example(x, batch, length) for x in model.inputs]
    expected = keras.tree.flatten(model(inputs[0] if len(inputs) == 1 else inputs))
    got = _run(format, path, [x.name for x in model.inputs], inputs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, keras.ops.convert_to_numpy(e), atol=1e-5)


def _example(spec, batch, length):
    shape = [batch] + [length if d is None else d for d in spec.shape[1:]]
    if "int" in str(spec.dtype):
        return np.random.default_rng(1).integers(0, 10, size=shape).astype("int32")
    return np.random.default_rng(1).normal(size=shape).astype("float32")


def _run(format, path, names, inputs):
    """The exported file's outputs, in the runtime (a reference for the helper)."""
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path)
        listed = [x.name for x in session.get_inputs()]
        order = names if sorted(listed) == sorted(names) else listed
        return session.run(None, dict(zip(order, inputs)))
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path).get_signature_runner()
    outputs = runner(**dict(zip(names, inputs)))
    return [outputs[f"output_{i}"] for i in range(len(outputs))]


@pytest.mark.skipif(BACKEND != "tensorflow", reason="LiteRT from TensorFlow")
def test_cell_in_keras_rnn_exports_to_litert_at_a_fixed_batch_size(tmp_path):
    _skip_without("litert")
    inputs = keras.Input((None, D), batch_size=B)
    model = keras.Model(inputs, keras.layers.RNN(layers.GRUCell(6))(inputs))
    with pytest.raises(ExportError, match="Select TensorFlow op"):
        export_model(model, str(tmp_path / "open.tflite"), format="litert")
    assert not os.path.exists(tmp_path / "open.tflite")


def test_examples_given_are_the_ones_checked(tmp_path):
    _skip_without("onnx")
    model = _layer_model("LSTM")
    examples = [np.ones((3, 4, D), "float32"), np.zeros((1, 6, D), "float32")]
    if BACKEND == "torch":
        examples = examples[:1]
    exported = export_model(
        model, str(tmp_path / "lstm.onnx"), format="onnx", examples=examples
    )
    assert exported.shapes == tuple([x.shape] for x in examples)


def test_mismatch_is_an_error_and_the_file_is_removed(tmp_path):
    _skip_without("onnx")
    path = tmp_path / "model.onnx"
    with pytest.raises(ExportError, match=r"away from Keras's .* more than atol"):
        export_model(_layer_model("GRU"), str(path), format="onnx", atol=-1.0)
    assert not path.exists()


def test_file_the_runtime_refuses_is_an_error(tmp_path, monkeypatch):
    _skip_without("onnx")
    model = _layer_model("SimpleRNN")

    def broken_export(path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"not an ONNX graph")

    monkeypatch.setattr(model, "export", broken_export)
    path = tmp_path / "model.onnx"
    with pytest.raises(ExportError, match="onnxruntime refused the exported file"):
        export_model(model, str(path), format="onnx")
    assert not path.exists()


def test_bad_arguments_are_refused(tmp_path):
    model = _layer_model("GRU")
    with pytest.raises(ValueError, match=r"Expected `format` in \['onnx'"):
        export_model(model, str(tmp_path / "m.onnx"), format="tflite")
    with pytest.raises(ValueError, match=r"path ending in '.onnx'"):
        export_model(model, str(tmp_path / "m.tflite"), format="onnx")
    if BACKEND == "jax":
        with pytest.raises(ValueError, match="exports 'litert' from the tensorflow"):
            export_model(model, str(tmp_path / "m.tflite"), format="litert")


def test_missing_runtime_names_the_package(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "onnxruntime" else real(name, *args),
    )
    with pytest.raises(
        ModuleNotFoundError,
        match=r"needs onnxruntime, .* pip install 'keras_seq\[export\]'",
    ):
        export_model(_layer_model("GRU"), str(tmp_path / "m.onnx"), format="onnx")


def test_exportable_is_only_active_inside_the_block():
    model = _layer_model("LSTM")
    x = np.random.default_rng(0).normal(size=(B, T, D)).astype("float32")
    before = keras.ops.convert_to_numpy(model(x))
    with exportable():
        assert is_exporting()
        inside = keras.ops.convert_to_numpy(model(x))
    assert not is_exporting()
    np.testing.assert_allclose(inside, before, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), before)
