"""The numeric core of a trained zoo model in ONNX Runtime and LiteRT, with
the tokeniser put in front of it, against the `.keras` model on the same
texts (`zoo/portable.py`)."""

import importlib.util
import os

import keras
import numpy as np
import tensorflow as tf

import zoo
from zoo import text_inputs, training
from zoo.__main__ import main

RUNTIMES = {"onnx": "onnxruntime", "litert": "ai_edge_litert"}
EXTENSIONS = {"onnx": ".onnx", "litert": ".tflite"}


def formats():
    """The formats whose runtime is installed."""
    return [f for f, m in RUNTIMES.items() if importlib.util.find_spec(m) is not None]


def run_file(path, names, inputs):
    """The file's first output on `inputs`, given by the network's input names."""
    if path.endswith(".onnx"):
        import onnxruntime

        session = onnxruntime.InferenceSession(path)
        listed = [x.name for x in session.get_inputs()]
        order = names if sorted(listed) == sorted(names) else listed
        return session.run(None, dict(zip(order, inputs)))[0]
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path).get_signature_runner()
    details = runner.get_input_details()
    if sorted(details) != sorted(names):
        names = sorted(details, key=lambda name: details[name]["index"])
    return runner(**dict(zip(names, inputs)))["output_0"]


def export_each_format(name, workdir):
    """`python -m zoo export NAME --format F` for each installed runtime: paths."""
    paths = []
    for format in formats():
        assert main(["export", name, "--workdir", workdir, "--format", format]) == 0
        paths.append(os.path.join(workdir, "core" + EXTENSIONS[format]))
        assert os.path.exists(paths[-1])
    return paths


def check_vocabulary_file(workdir, layer):
    """Line `i` of the exported vocabulary is Keras's token of id `i`: the
    padding "", the out-of-vocabulary token, then the tokens."""
    words = training.read_lines(os.path.join(workdir, f"{layer.name}_vocabulary.txt"))
    lookup = layer if hasattr(layer, "get_vocabulary") else layer.lookup
    assert words == [str(w) for w in lookup.get_vocabulary()]
    assert words[:2] == ["", "[UNK]"]
    assert len(set(words)) == len(words)


def check_text_model_core(name, workdir, texts, atol=1e-5):
    """The core of a text model (sentiment, tagger) on the ids of `texts`
    gives the `.keras` model's output on `texts`, in each runtime."""
    model = zoo.load(os.path.join(workdir, "model.keras"))
    expected = text_inputs.call_text_model(model, texts)
    layers = text_inputs.string_layers(model)
    ids = [keras.ops.convert_to_numpy(layer(tf.constant(texts))) for layer in layers]
    names = [x.name for x in model.layers[-1].inputs]
    paths = export_each_format(name, workdir)
    assert paths, "no runtime installed: onnxruntime, ai-edge-litert"
    for layer in layers:
        check_vocabulary_file(workdir, layer)
    outputs = training.read_lines(os.path.join(workdir, "outputs.txt"))
    for path in paths:
        got = run_file(path, names, ids)
        np.testing.assert_allclose(got, expected, atol=atol)
        assert len(outputs) == got.shape[-1]


def check_language_model_core(workdir, atol=1e-4):
    """The language model's core (word ids -> logits from zero states) in
    each runtime gives the logits of `model.keras` (stateful) after a state
    reset, on ids from the exported vocabulary."""
    model = zoo.load(os.path.join(workdir, "model.keras"))
    paths = export_each_format("lm_ptb", workdir)
    assert paths, "no runtime installed: onnxruntime, ai-edge-litert"
    words = training.read_lines(os.path.join(workdir, "tokens_vocabulary.txt"))
    assert words == training.read_lines(os.path.join(workdir, "vocabulary.txt"))
    index = {word: i for i, word in enumerate(words)}
    sentence = ["the", "company", "said", "it", "expects", "<unk>", "sales"]
    ids = np.array([[index[w] for w in sentence]], "int32")
    batch = model.inputs[0].shape[0]
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()
    expected = keras.ops.convert_to_numpy(model(np.repeat(ids, batch, axis=0)))[:1]
    for path in paths:
        got = run_file(path, [], [ids])
        np.testing.assert_allclose(got, expected, atol=atol)
