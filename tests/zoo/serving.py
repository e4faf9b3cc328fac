"""The offline TF Serving contract every exported zoo model must meet."""

import os
import subprocess
import sys

import tensorflow as tf


def check_serving_contract(export, texts, outputs):
    """`serving_default(texts)` is a valid signature with `outputs`, shown by
    `saved_model_cli`, and answers a `PredictRequest` as TF Serving builds it.

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
    # saved_model_cli: how TF Serving users inspect a model.
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    command = [cli, "show", "--dir", export, "--tag_set", "serve"]
    shown = subprocess.run(
        [*command, "--signature_def", "serving_default"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "texts" in shown and "DT_STRING" in shown
    assert all(name in shown for name in outputs)
    # A PredictRequest as TF Serving receives it, turned into tensors.
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "serving_default"
    request.inputs["texts"].CopyFrom(tf.make_tensor_proto(list(texts)))
    inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
    answer = signature(**{k: tf.constant(v) for k, v in inputs.items()})
    assert all(answer[name].shape[0] == len(texts) for name in outputs)
    return answer
