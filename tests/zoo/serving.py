"""The offline TF Serving contract every exported zoo model must meet."""

import os
import subprocess
import sys

import tensorflow as tf


def fresh_process_answer(code, *args):
    """The last line `python -c code *args` prints, in a new process (a
    SavedModel loaded there shares nothing with the test's Keras objects)."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def saved_model_cli(*args):
    """`saved_model_cli ARGS` with tensorflow-text's ops registered, as TF
    Serving's images have them (nothing changes for graphs without them)."""
    code = (
        "import sys, tensorflow_text\n"
        "from tensorflow.python.tools.saved_model_cli import main\n"
        "sys.argv[0] = 'saved_model_cli'\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        check=False,
        capture_output=True,
        text=True,
    )


def check_serving_contract(export, texts, outputs):
    """`serving_default(texts)` is a valid signature with `outputs`, shown and
    run by `saved_model_cli`, answers a `PredictRequest` as TF Serving builds
    it, and answers bytes that are not UTF-8.

    Returns the signature's answer to the request.
    """
    signature = tf.saved_model.load(export).signatures["serving_default"]
    assert set(signature.structured_outputs) == set(outputs)
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    with open(os.path.join(export, "saved_model.pb"), "rb") as f:
        saved.ParseFromString(f.read())
    signature_def = saved.meta_graphs[0].signature_def["serving_default"]
    assert tf.compat.v1.saved_model.is_valid_signature(signature_def)
    # saved_model_cli: how TF Serving users inspect and try a model; `run`
    # loads it in a TF1 session, as TF Serving's C++ loader does.
    shown = saved_model_cli("show", "--dir", export, "--all")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "signature_def['serving_default']" in shown.stdout
    assert "texts" in shown.stdout and "DT_STRING" in shown.stdout
    assert all(name in shown.stdout for name in outputs)
    ran = saved_model_cli(
        *("run", "--dir", export, "--tag_set", "serve"),
        *("--signature_def", "serving_default"),
        *("--input_exprs", f"texts={list(texts)!r}"),
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert all(f"Result for output key {name}" in ran.stdout for name in outputs)
    # A PredictRequest as TF Serving receives it, turned into tensors.
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "serving_default"
    request.inputs["texts"].CopyFrom(tf.make_tensor_proto(list(texts)))
    inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
    answer = signature(**{k: tf.constant(v) for k, v in inputs.items()})
    assert all(answer[name].shape[0] == len(texts) for name in outputs)
    # Bytes that are not UTF-8, and an empty text, get an answer too; so
    # does a request of empty or blank texts alone (TF Serving's one
    # instance `""`), which has no word at all.
    for odd_texts in ([b"\xff\xfe\x80 caf\xe9", b""], [b""], [b" ", b"\t \n"]):
        odd = signature(texts=tf.constant(odd_texts))
        assert all(odd[name].shape[0] == len(odd_texts) for name in outputs)
    # From Python (`zoo.load`): one string is one text, not one per character.
    import zoo

    served = zoo.load(export)
    one = served(texts[0])
    assert all(one[name].shape[0] == 1 for name in outputs)
    try:
        served([texts[0], None])
    except TypeError as error:
        assert "got an element of type NoneType" in str(error)
    else:
        raise AssertionError("a batch holding None was not refused")
    return answer
