"""SavedModels whose signatures take raw text, for TF Serving."""


def require_tensorflow_backend():
    """SavedModels are TensorFlow graphs: refuse other backends up front."""
    import importlib.util

    import keras

    if importlib.util.find_spec("tensorflow") is None:
        raise ModuleNotFoundError(
            "SavedModel export needs TensorFlow, which is not installed: "
            "pip install 'keras_seq[tensorflow]'",
            name="tensorflow",
        )
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(
            "SavedModel export needs the TensorFlow backend, got "
            f"KERAS_BACKEND={backend!r}. Save the model as a .keras file, load "
            "it in a process with KERAS_BACKEND=tensorflow and export it there."
        )


def disable_xla(model):
    """Turns off the XLA-compiled loops of keras_seq recurrent layers in `model`.

    TF Serving on a CPU refuses functions marked for XLA unless started with
    `--xla_cpu_compilation_enabled`; exported graphs therefore run the loops
    uncompiled (same results).
    """
    for layer in model._flatten_layers(include_self=True):
        if hasattr(layer, "jit_compile") and hasattr(layer, "_tf_recurrences"):
            layer.jit_compile = False
    return model


def export_text_classifier(path, model, vectorizer, label_names, cut_padding=0):
    """Writes a SavedModel: `serving_default(texts)` -> labels and probabilities.

    Args:
        path: Directory to write.
        model: Keras model from token ids `(batch, time)` to class
            probabilities `(batch, classes)`.
        vectorizer: Keras layer from a `(batch,)` `tf.string` tensor to ids
            (e.g. `keras.layers.TextVectorization`).
        label_names: Names of the classes, in order.
        cut_padding: 0 (default): the model reads the vectorizer's ids as
            they are. A positive `k`: the ids are cut after the batch's
            last nonzero id, rounded up to a multiple of `k`, so a batch of
            short texts costs its own length rather than the vectorizer's
            `output_sequence_length`. Only for a model that masks id 0
            (whose output padding does not change) and reads `time` in
            groups of `k` ids (1 for one id a step).

    The signature takes `texts`, a `(batch,)` string tensor, and returns
    `label` (string), `probability` (of that label) and `probabilities`.
    """
    require_tensorflow_backend()
    import tensorflow as tf

    if not isinstance(cut_padding, int) or cut_padding < 0:
        raise ValueError(
            "Received an invalid value for argument `cut_padding`, expected a "
            f"non-negative integer, got {cut_padding!r}."
        )
    disable_xla(model)

    def serve(texts):
        ids = vectorizer(texts)
        if cut_padding:
            # (batch, time) -> (batch, length): up to the batch's last column
            # holding a nonzero id, at least one group, rounded up to a group.
            used = tf.reduce_any(tf.not_equal(ids, 0), axis=0)  # (time,)
            columns = tf.range(1, tf.shape(ids)[1] + 1)
            length = tf.reduce_max(tf.where(used, columns, 0))
            length = tf.maximum(-(-length // cut_padding), 1) * cut_padding
            ids = ids[:, :length]
        probabilities = model(ids, training=False)
        index = tf.argmax(probabilities, axis=-1)
        return {
            "label": tf.gather(tf.constant(list(label_names)), index),
            "probability": tf.reduce_max(probabilities, axis=-1),
            "probabilities": probabilities,
        }

    return write_text_signature(path, serve, [model, vectorizer])


def graph_ops(path):
    """The op types of every graph and function in the SavedModel at `path`."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    with open(f"{path}/saved_model.pb", "rb") as f:
        saved.ParseFromString(f.read())
    ops = set()
    for meta_graph in saved.meta_graphs:
        ops.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            ops.update(node.op for node in function.node_def)
    return ops


def xla_functions(path):
    """Names of the SavedModel's functions marked for XLA compilation."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    with open(f"{path}/saved_model.pb", "rb") as f:
        saved.ParseFromString(f.read())
    return [
        function.signature.name
        for meta_graph in saved.meta_graphs
        for function in meta_graph.graph_def.library.function
        if function.attr["_XlaMustCompile"].b
    ]


# Ops of tensorflow-text that the official TF Serving images' tensorflow-text
# 2.12.1 defines (found in the op libraries of its wheel:
# `pip download tensorflow-text==2.12.1 --no-deps --only-binary=:all:
# --python-version 3.11`, unzip, `grep -a -F OP _*.so`); the keras-hub
# WordPiece tokenizer uses the first three.
TENSORFLOW_TEXT_2_12_OPS = frozenset(
    {
        "FastWordpieceTokenizeWithOffsets",
        "RegexSplitWithOffsets",
        "TFText>FastWordpieceDetokenize",
        "WordpieceTokenizeWithOffsets",
        "CaseFoldUTF8",
        "NormalizeUTF8",
    }
)


def non_core_ops(ops):
    """Those of `ops` that core TensorFlow does not define (`tf.raw_ops`).

    Ops of tensorflow-text or other libraries are not in `tf.raw_ops`; a TF
    Serving binary has core TensorFlow's ops only (plus an old
    tensorflow-text in the official images).
    """
    import tensorflow as tf

    core = set(dir(tf.raw_ops))
    return sorted(op for op in ops if op not in core)


def at_least_one_step(ids):
    """`ids` `(batch, time, ...)` padded with 0 to at least one time step."""
    import tensorflow as tf

    missing = tf.maximum(1 - tf.shape(ids)[1], 0)
    return tf.pad(ids, [[0, 0], [0, missing]] + [[0, 0]] * (ids.shape.rank - 2))


def export_sequence_tagger(path, model, vectorizer, tag_names):
    """Writes a SavedModel: `serving_default(texts)` -> one tag per word.

    Args:
        path: Directory to write.
        model: Keras model from word ids `(batch, time)` (0 = padding) to tag
            probabilities `(batch, time, len(tag_names))`, or from a list of
            inputs whose first is the word ids.
        vectorizer: Keras layer from `(batch,)` space-separated words to ids,
            padded with 0 (a whitespace-split `TextVectorization`); or a list
            of layers of the texts giving the model's inputs in order, the
            first of them that one (e.g. then per-word character ids).
        tag_names: Names of the tag ids, in order.

    The signature takes `texts`, a `(batch,)` string tensor of space-separated
    words, and returns `tags`, the space-separated tags (one per word; empty
    for an empty text), and `probability`, `(batch, time)` of each chosen tag
    (0 past a text's words; `time` is at least 1, also for a batch of empty
    texts).
    """
    require_tensorflow_backend()
    import tensorflow as tf

    disable_xla(model)

    readers = vectorizer if isinstance(vectorizer, (list, tuple)) else [vectorizer]

    def serve(texts):
        # A batch of empty texts has no time step, and a recurrence needs
        # one: a padding step (masked, tagged with nothing) is added.
        inputs = [at_least_one_step(reader(texts)) for reader in readers]
        ids = inputs[0]
        probabilities = model(inputs if len(inputs) > 1 else ids, training=False)
        real = ids != 0
        tags = tf.ragged.boolean_mask(
            tf.gather(tf.constant(list(tag_names)), tf.argmax(probabilities, axis=-1)),
            real,
        )
        return {
            "tags": tf.strings.reduce_join(tags, axis=-1, separator=" "),
            "probability": tf.where(real, tf.reduce_max(probabilities, axis=-1), 0.0),
        }

    return write_text_signature(path, serve, [model, *readers])


def export_text_generator(
    path,
    model,
    continue_ids,
    words,
    start_word,
    end_word,
    unknown_word,
    max_prompt_words=100,
):
    """Writes a SavedModel: `serving_default(texts)` -> a continuation of each.

    Args:
        path: Directory to write.
        model: The Keras model whose variables `continue_ids` reads.
        continue_ids: `(ids, lengths, seed) -> (sequences, scores, lengths)`:
            `ids` `(batch, time)` int32 right-padded prompts, `lengths`
            `(batch,)`, `seed` a `keras.random.SeedGenerator`; returns word
            ids `(batch, max_length)` padded with the end word's id, their
            total log-probability and the lengths (end word included), as
            `keras_seq.decoding.sample` does.
        words: The vocabulary, word `i` of id `i`.
        start_word: Put before every prompt (e.g. the sentence end `<eos>`,
            which precedes every sentence of the training text).
        end_word: Ends a continuation (not part of the returned text).
        unknown_word: What words outside `words` become.
        max_prompt_words: Only a prompt's last `max_prompt_words` words are
            read (the state of an LSTM forgets older ones anyway).

    The signature takes `texts`, a `(batch,)` string tensor, lower-cases and
    splits it on whitespace, and returns `continuation` (the new words,
    space-separated) and `score` (their total log-probability). An empty
    text is continued from `start_word` alone. Each call draws new samples
    (the seed generator's state is a variable of the SavedModel).
    """
    require_tensorflow_backend()
    import keras
    import tensorflow as tf

    disable_xla(model)
    index = {word: i for i, word in enumerate(words)}
    for name, word in (
        ("start_word", start_word),
        ("end_word", end_word),
        ("unknown_word", unknown_word),
    ):
        if word not in index:
            raise ValueError(
                f"Argument `{name}` must be in `words`, got {word!r}, not among "
                f"the {len(words)} words."
            )
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(words)), tf.range(len(words), dtype=tf.int32)
        ),
        default_value=index[unknown_word],
    )
    seed = keras.random.SeedGenerator(0)

    def serve(texts):
        tokens = tf.strings.split(tf.strings.lower(texts))[:, -max_prompt_words:]
        ids = tf.ragged.map_flat_values(table.lookup, tokens)
        start = tf.fill([tf.shape(texts)[0], 1], index[start_word])
        ids = tf.concat([start, ids], axis=1)
        sequences, scores, lengths = continue_ids(
            ids.to_tensor(), tf.cast(ids.row_lengths(), tf.int32), seed
        )
        new = tf.sequence_mask(lengths, tf.shape(sequences)[1]) & (
            sequences != index[end_word]
        )
        continuation = tf.ragged.boolean_mask(
            tf.gather(tf.constant(list(words)), sequences), new
        )
        return {
            "continuation": tf.strings.reduce_join(
                continuation, axis=-1, separator=" "
            ),
            "score": scores,
        }

    return write_text_signature(path, serve, [model, table])


def write_text_signature(path, serve, resources):
    """Writes `serve(texts)` as the SavedModel's `serving_default` signature.

    `texts` is a `(batch,)` `tf.string` tensor. `resources` are the Keras
    layers and TensorFlow resources (lookup tables) that `serve` reads.
    Written with `keras.export.ExportArchive`, which saves the TensorFlow
    variables the function captures themselves: saved through a
    `tf.Module` holding the Keras layers instead, TF Serving's
    (session-based) loader restores other copies of them and fails with
    "Could not find variable" (`saved_model_cli run` shows it).
    """
    return write_text_signatures(path, {"serving_default": serve}, resources)


def write_text_signatures(path, functions, resources):
    """Writes each `name: fn(texts)` of `functions` as a signature of that name
    (as `write_text_signature`; one of them should be `serving_default`)."""
    require_tensorflow_backend()
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    for resource in resources:
        if isinstance(resource, keras.layers.Layer):
            disable_xla(resource)
        archive.track(resource)
    for name, function in functions.items():
        archive.add_endpoint(
            name,
            function,
            input_signature=[tf.TensorSpec([None], tf.string, name="texts")],
        )
    archive.write_out(path, verbose=False)
    return path
