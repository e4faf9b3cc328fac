"""The numeric core of a trained zoo model as an ONNX or LiteRT file.

Everything after tokenisation: the network of `sentiment_*` (token ids ->
class probabilities), `pos_zh` (word ids, and character ids with the
`chars` presets -> tag probabilities) and `lm_ptb` (word ids -> next-word
logits, from zero states), exported with `keras_seq.export.export_model`
(checked in the runtime against Keras) beside the vocabulary files a
tokeniser in front of it needs:

    python -m zoo export NAME --workdir DIR --format onnx     # DIR/core.onnx
    python -m zoo export NAME --workdir DIR --format litert   # DIR/core.tflite

Id `i` of an input is line `i` of its `*_vocabulary.txt` (for the text
models line 0 is the padding, "", and line 1 the out-of-vocabulary token,
as Keras's `TextVectorization` and `StringLookup` number them; the tokens
are those each model's README describes); `outputs.txt` names the output
classes, one per line, in the order of the last axis.

The translation models export their encoder and one decoder step instead,
`encoder.onnx` and `decoder_step.onnx`: `translate_rnn` (a
`keras_seq.models.Seq2Seq`) through `keras_seq.export.export_seq2seq_steps`,
`translate_transformer` (its steps read and extend self-attention caches)
through `zoo.translation.transformer.export_transformer_steps`. The search
around them is the caller's, ids from the run's `source_vocabulary.txt`
and `target_vocabulary.txt`.
"""

import os

import keras

from keras_seq.export import export_model

from . import text_inputs, training

EXTENSIONS = {"onnx": ".onnx", "litert": ".tflite"}

# Files holding the output classes' names, per model.
OUTPUT_NAMES = {
    "sentiment_zh": "labels.txt",
    "sentiment_en": "labels.txt",
    "pos_zh": "tags.txt",
    "lm_ptb": "vocabulary.txt",
}


def numeric_core(name, model, workdir):
    """`(network, {file name: lines})`: the Keras network of a loaded
    `model.keras` and the vocabularies of its inputs."""
    if name not in OUTPUT_NAMES:
        raise ValueError(
            f"{name} has no numeric core to export to ONNX or LiteRT (it "
            "generates with a search around its network); expected one of "
            f"{sorted(OUTPUT_NAMES)} (or translate_rnn, translate_transformer: their "
            "encoder and decoder step, through export_core). Its SavedModel: "
            f"python -m zoo export {name}."
        )
    outputs = training.read_lines(os.path.join(workdir, OUTPUT_NAMES[name]))
    layers = text_inputs.string_layers(model)
    if layers:
        files = {f"{layer.name}_vocabulary.txt": _vocabulary(layer) for layer in layers}
        return model.layers[-1], {**files, "outputs.txt": outputs}
    # The language model: its `model.keras` carries the state of a fixed
    # number of streams; the core is a stateless copy of any batch size.
    import zoo
    from zoo.language_model.model import build_language_model

    config = zoo.recorded_config(name, workdir)
    if config is None:
        raise ValueError(
            f"{workdir} holds no finished {name} run: expected its metrics.json."
        )
    network = build_language_model(config, len(outputs), stateful=False)
    # The trained variables; the stateful model's states are variables too.
    for mine, trained in zip(network.trainable_variables, model.trainable_variables):
        mine.assign(keras.ops.convert_to_numpy(trained))
    return network, {"tokens_vocabulary.txt": outputs, "outputs.txt": outputs}


def _vocabulary(layer):
    # `TextVectorization`, or the tagger's characters (a `StringLookup` inside).
    lookup = layer if hasattr(layer, "get_vocabulary") else layer.lookup
    return [str(token) for token in lookup.get_vocabulary()]


def export_core(name, model, workdir, format="onnx", path=None):
    """Writes the numeric core of `model` (`numeric_core`) and its
    vocabulary files to `workdir`; returns the `ExportedModel`s (the
    encoder and the decoder step for `translate_rnn`, else one)."""
    if format not in EXTENSIONS:
        raise ValueError(
            f"Expected --format in {sorted(EXTENSIONS)} for the numeric core, got "
            f"{format!r} (the SavedModel: python -m zoo export {name} without it)."
        )
    if name == "translate_rnn":
        from keras_seq.export import export_seq2seq_steps

        return list(export_seq2seq_steps(model, workdir, format=format))
    if name == "translate_transformer":
        import zoo
        from zoo.translation.transformer import export_transformer_steps

        config = zoo.recorded_config(name, workdir)
        if config is None:
            raise ValueError(
                f"{workdir} holds no finished {name} run: expected its metrics.json."
            )
        return list(
            export_transformer_steps(
                model, workdir, config.max_target_tokens, format=format
            )
        )
    network, files = numeric_core(name, model, workdir)
    path = path or os.path.join(workdir, "core" + EXTENSIONS[format])
    exported = export_model(network, path, format=format)
    for file_name, lines in files.items():
        training.write_lines(os.path.join(os.path.dirname(path), file_name), lines)
    return [exported]
