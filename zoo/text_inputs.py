"""Feeding text to the zoo's models: `.keras` text models called on strings,
training batches padded to a few lengths."""

import math

import keras
import numpy as np


def string_layers(model):
    """The layers of a `.keras` text model that read its strings, in the
    order of the network's inputs: `tokens` (a TextVectorization), then
    `characters` where the network reads characters too (the tagger's)."""
    names = {layer.name for layer in model.layers}
    return [model.get_layer(n) for n in ("tokens", "characters") if n in names]


def call_text_model(model, texts, bucket=False):
    """A `.keras` text model (strings -> the network's output) on `texts`, NumPy out.

    Its string layers (`string_layers`) run eagerly on TensorFlow and the
    network (the last layer) on the Keras backend, so the same call works on
    JAX, where a compiled graph cannot take strings; the network runs
    compiled there. `bucket`: pad the time axis (1) of the network's inputs
    with zeros to the next power of two, for a network that masks id 0 and
    whose inputs are padded per batch (the tagger's): a few shapes to compile
    instead of one per batch; the output is cut back to the batch's length.
    """
    import tensorflow as tf

    strings = tf.constant(texts)
    inputs = [
        keras.ops.convert_to_numpy(layer(strings)) for layer in string_layers(model)
    ]
    length = inputs[0].shape[1]
    if bucket:
        padded = 2 ** max(4, math.ceil(math.log2(max(length, 1))))
        inputs = [
            np.pad(x, [(0, 0), (0, padded - length)] + [(0, 0)] * (x.ndim - 2))
            for x in inputs
        ]
    network = model.layers[-1]
    inputs = inputs if len(inputs) > 1 else inputs[0]
    if keras.backend.backend() == "tensorflow":
        # Eager calls run keras_seq's recurrences as TensorFlow graphs already:
        # as fast as a traced predict function, without its tracing.
        outputs = network(inputs, training=False)
    else:
        # Elsewhere an eager call steps through each time step op by op (JAX:
        # 4x slower than one compiled call on the tagger's test paragraphs).
        outputs = network.predict_on_batch(inputs)
    outputs = keras.ops.convert_to_numpy(outputs)
    return outputs[:, :length] if bucket else outputs


# Training batches padded per batch are padded further to a multiple of this.
TIME_BUCKET = 16


def pad_time(tensors, multiple=TIME_BUCKET):
    """Zero-pads axis 1 of `tensors` (one shared length) to a multiple of `multiple`.

    For training batches padded to their own longest text, inside a tf.data
    `map`: keras_seq's recurrent layers compile their loops once per input
    shape (XLA on TensorFlow, the whole step on JAX), so a new length would
    mean a new compilation for most batches, and under `tf.distribute`,
    which pads each replica's share by itself, in every epoch. With the
    lengths rounded up, a few shapes are compiled; that costs at most
    `multiple - 1` masked steps a batch. Only for models that mask id 0
    and whose losses and metrics skip label 0 at masked steps (the
    tagger's, `translate_rnn`'s): there the padding changes no figure.

    Args:
        tensors: Tensors `(batch, time, ...)` of the same `time`.
        multiple: The lengths kept. Defaults to `TIME_BUCKET` (16).

    Returns:
        A list of the tensors, `(batch, ceil(time / multiple) * multiple, ...)`.
    """
    import tensorflow as tf

    pad = -tf.shape(tensors[0])[1] % multiple
    return [
        tf.pad(t, [[0, 0], [0, pad]] + [[0, 0]] * (len(t.shape) - 2)) for t in tensors
    ]
