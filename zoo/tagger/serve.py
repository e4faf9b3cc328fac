"""Serving a trained tagger: tags from the text model, the SavedModel, `predict` rows."""

import os

from keras_seq.export import export_sequence_tagger

from .. import text_inputs, training


def tag(model, texts, tag_names, batch_size=64):
    """Tag lists for space-separated texts, from the text model (`model.keras`)."""
    results = []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        probabilities = text_inputs.call_text_model(model, chunk, bucket=True)
        for text, row in zip(chunk, probabilities.argmax(-1)):
            results.append([tag_names[i] for i in row[: len(text.split())]])
    return results


def export(model, path, tag_names=None, **unused):
    """The SavedModel of a text model: space-separated words -> tags."""
    if tag_names is None:
        tag_names = saved_tag_names(path)
    return export_sequence_tagger(
        path, model.layers[-1], text_inputs.string_layers(model), tag_names
    )


def saved_tag_names(export_path):
    return training.read_lines(os.path.join(os.path.dirname(export_path), "tags.txt"))


def predict_rows(model, texts, workdir, **unused):
    """Space-separated tags per text, from a `ServedModel` or from the text
    model (`model.keras`, tag names from `workdir/tags.txt`)."""
    if callable(getattr(model, "signature", None)):
        return [t.decode() for t in model(texts)["tags"]]
    tag_names = saved_tag_names(os.path.join(workdir, "export"))
    return [" ".join(tags) for tags in tag(model, texts, tag_names)]
