"""Serving a trained language model: the SavedModel and `predict` rows."""

import os

from keras_seq.export import export_text_generator

from .. import training
from .decode import MAX_PROMPT_WORDS, continuer, generate
from .input_pipeline import END, UNKNOWN


def workdir_words(workdir):
    return training.read_lines(os.path.join(workdir, "vocabulary.txt"))


def predict_rows(model, texts, config, workdir):
    """A sampled continuation (top-k 40) of each prompt.

    From the exported SavedModel (`ServedModel`) when there is one, else
    from `model.keras` (20 words).
    """
    if callable(getattr(model, "signature", None)):
        return [t.decode() for t in model(texts)["continuation"]]
    words = workdir_words(workdir)
    return [" ".join(row) for row in generate(model, words, texts)]


def export(model, path, words=None, length=20, temperature=1.0, top_k=40, **unused):
    """The SavedModel: prompts -> sampled continuations (`export_text_generator`).

    `words` defaults to the `vocabulary.txt` beside `path`.
    """
    if words is None:
        words = workdir_words(os.path.dirname(os.path.abspath(path)))
    return export_text_generator(
        path,
        model,
        continuer(model, words, length, temperature, top_k),
        words,
        start_word=END,
        end_word=END,
        unknown_word=UNKNOWN,
        max_prompt_words=MAX_PROMPT_WORDS,
    )
