"""Serving a trained translation model: the SavedModel and `predict` rows."""

import os

from .. import register_served, text_batch
from ..served import ServedModel
from .decode import detokenize, translator_of
from .input_pipeline import source_ids


def export(model, path, config, translator=None):
    """The SavedModel: `serving_default` (beam search) -> `translation`,
    `score`; `translate_nbest` -> `translations` `(batch, beam_width)`,
    `scores`; `translate_greedy` -> `translation`, `score`."""
    from keras_seq.export import export_seq2seq, write_text_signatures

    if translator is None:
        translator = translator_of(
            model, os.path.dirname(os.path.abspath(path)), config
        )
    tokenizers = [translator.source_tokenizer, translator.target_tokenizer]
    if config.architecture == "rnn":
        # The library's exporter: tokenizing, `Seq2Seq.generate_ids` and
        # detokenizing in the graph.
        return export_seq2seq(
            path,
            model,
            lambda texts: source_ids(
                translator.source_tokenizer, texts, config.max_source_tokens
            ),
            target_text=lambda ids, lengths: detokenize(
                translator.target_tokenizer, ids, lengths
            ),
            max_length=config.max_target_tokens,
            beam_width=config.beam_width,
            length_penalty=config.length_penalty,
            resources=tokenizers,
        )

    def best(texts):
        strings, scores = translator.strings(
            texts, config.beam_width, config.length_penalty
        )
        return {"translation": strings[:, 0], "score": scores[:, 0]}

    def nbest(texts):
        strings, scores = translator.strings(
            texts, config.beam_width, config.length_penalty, config.beam_width
        )
        return {"translations": strings, "scores": scores}

    def greedy(texts):
        strings, scores = translator.strings(texts, 1, 0.0)
        return {"translation": strings[:, 0], "score": scores[:, 0]}

    return write_text_signatures(
        path,
        {"serving_default": best, "translate_nbest": nbest, "translate_greedy": greedy},
        [model, *tokenizers],
    )


def predict_rows(model, texts, config, workdir):
    """The translation of each text (from the SavedModel when there is one)."""
    if callable(getattr(model, "signature", None)):
        return [t.decode() for t in model(texts)["translation"]]
    return translator_of(model, workdir, config).translate(texts)


class ServedTranslator(ServedModel):
    """An exported translation model (`zoo.load` of its SavedModel).

    `__call__(texts)` gives the `serving_default` outputs; `translate` the
    strings of any of its three searches.
    """

    def translate(self, texts, beam_width=None, alpha=None, num_return=1):
        """Translations of `texts` by an exported translation model.

        The SavedModel holds the searches it was exported with: beam search
        (`serving_default`, its n-best in `translate_nbest`) and greedy search
        (`translate_greedy`, `beam_width=1`). `alpha` is fixed at export.
        """
        if alpha is not None:
            raise ValueError(
                "A SavedModel's length penalty is fixed when it is exported; "
                "`alpha` can only be chosen with the `.keras` model "
                "(zoo.translation.Translator)."
            )
        texts = text_batch(texts)
        if beam_width == 1 and num_return == 1:
            outputs = self.saved.signatures["translate_greedy"](texts=texts)
            return [t.decode() for t in outputs["translation"].numpy()]
        outputs = self.saved.signatures["translate_nbest"](texts=texts)
        width = outputs["translations"].shape[1]
        if beam_width not in (None, width) or num_return > width:
            raise ValueError(
                f"This SavedModel was exported with beam width {width}: got "
                f"beam_width={beam_width}, num_return={num_return}."
            )
        rows = [[t.decode() for t in row] for row in outputs["translations"].numpy()]
        if num_return == 1:
            return [row[0] for row in rows]
        return [row[:num_return] for row in rows]


# `zoo.load` of a SavedModel with this signature gives a `ServedTranslator`.
register_served("translate_nbest", ServedTranslator)
