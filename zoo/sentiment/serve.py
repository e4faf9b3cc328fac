"""Serving a trained sentiment model: the SavedModel, predictions, `predict` rows."""

import os

from keras_seq.export import export_text_classifier

from .. import text_inputs, training
from .input_pipeline import LABEL_NAMES

LABELS_FILE = "labels.txt"  # the class names of a run, one a line, in the workdir


def export(model, path, label_names=None, **unused):
    """The SavedModel of a text model (`model.keras`): texts -> label, probability.

    `label_names` defaults to the `labels.txt` beside `path` (the workdir's).
    """
    if label_names is None:
        label_names = saved_label_names(os.path.dirname(os.path.abspath(path)))
    classifier = model.layers[-1]
    classes = classifier.output_shape[-1]
    if classes != len(label_names):
        raise ValueError(
            f"The model has {classes} classes, expected as many label names, got "
            f"{len(label_names)}: {list(label_names)[:5]}."
        )
    # The classifier masks id 0 and reads a token's id and its n-grams'
    # together: a batch of short texts is served at its own length.
    ngrams = classifier.get_layer("embedding").ngrams
    return export_text_classifier(
        path, classifier, model.get_layer("tokens"), label_names, cut_padding=ngrams
    )


def saved_label_names(workdir):
    """The class names a run wrote to `workdir/labels.txt`.

    (Runs from before that file existed trained the two built-in corpora:
    `LABEL_NAMES`.)
    """
    path = os.path.join(workdir, LABELS_FILE) if workdir else None
    if path is None or not os.path.exists(path):
        return LABEL_NAMES
    return training.read_lines(path)


def predict_rows(model, texts, workdir=None, **unused):
    """`label<TAB>probability` per text, from a text model or a `ServedModel`."""
    if callable(getattr(model, "signature", None)):
        outputs = model(texts)
        labels = [label.decode() for label in outputs["label"]]
        return [f"{l}\t{p:.3f}" for l, p in zip(labels, outputs["probability"])]
    probabilities = predict(model, texts)
    names = saved_label_names(workdir)
    return [f"{names[int(row.argmax())]}\t{row.max():.3f}" for row in probabilities]


def predict(model, texts):
    """Class probabilities `(n, classes)` of `model.keras`'s text model for `texts`."""
    return text_inputs.call_text_model(model, list(texts))
