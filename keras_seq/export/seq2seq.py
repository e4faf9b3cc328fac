"""A `keras_seq.models.Seq2Seq` as a SavedModel from text to text."""

from keras_seq.export.saved_model import (
    at_least_one_step,
    require_tensorflow_backend,
    write_text_signatures,
)
from keras_seq.utils import checks


def export_seq2seq(
    path,
    model,
    source_ids,
    target_vocabulary=None,
    target_text=None,
    max_length=50,
    beam_width=4,
    length_penalty=0.0,
    length_penalty_type="power",
    coverage_penalty=0.0,
    resources=(),
):
    """Writes a SavedModel of `model` (a `Seq2Seq`): texts in, texts out.

    Tokenising, encoding, the search and turning ids back into text all run
    in the graph, without XLA (TF Serving on a CPU refuses XLA functions).

    Args:
        path: Directory to write.
        model: A `keras_seq.models.Seq2Seq`.
        source_ids: `(batch,)` strings -> `(batch, S)` int source ids padded
            with `model.pad_id`: a Keras layer (e.g. a
            `keras.layers.TextVectorization` adapted on the sources) or a
            function of such layers (list them in `resources`).
        target_vocabulary: The target words, word `i` of id `i`: the output
            is the words of each sequence joined by spaces, without the
            padding, start and end ids.
        target_text: Instead of `target_vocabulary`, `(ids (n, L), lengths
            (n,)) -> (n,)` strings (e.g. a subword detokenizer); `ids` are
            padded with `model.end_id` after `lengths` (end id included).
        max_length: Most generated tokens, the end included.
        beam_width, length_penalty, length_penalty_type, coverage_penalty:
            Of the beam search (`keras_seq.decoding.beam_search`).
        resources: Further Keras layers and TensorFlow resources that
            `source_ids` or `target_text` read.

    The signatures each take `texts`, a `(batch,)` string tensor:

    - `serving_default` -> `translation` `(batch,)` and `score` (beam search
      with `beam_width`; greedy search when it is 1);
    - `translate_nbest` -> `translations` `(batch, beam_width)`, best first,
      and their `scores`;
    - `translate_greedy` -> `translation`, `score` (total log-probability).

    An empty text is read as a source of padding only (at least one step)
    and still gets an answer.
    """
    require_tensorflow_backend()
    import keras
    import tensorflow as tf

    from keras_seq.models import Seq2Seq

    if not isinstance(model, Seq2Seq):
        raise ValueError(  # noqa: TRY004 - bad input is a ValueError here
            f"Argument `model` must be a keras_seq.models.Seq2Seq, got {model!r}."
        )
    if (target_vocabulary is None) == (target_text is None):
        raise ValueError(
            "Pass exactly one of `target_vocabulary` (the target words) and "
            "`target_text` (ids, lengths -> strings), got "
            f"target_vocabulary={'None' if target_vocabulary is None else '...'} "
            f"and target_text={target_text!r}."
        )
    if not callable(source_ids):
        raise ValueError(  # noqa: TRY004 - bad input is a ValueError here
            "Argument `source_ids` must be a layer or function from strings to "
            f"ids, got {source_ids!r}."
        )
    checks.check_positive_int("max_length", max_length)
    checks.check_positive_int("beam_width", beam_width)
    if target_vocabulary is not None:
        target_vocabulary = [str(word) for word in target_vocabulary]
        if len(target_vocabulary) != model.target_vocabulary_size:
            raise ValueError(
                "Argument `target_vocabulary` must hold one word per target id, "
                f"{model.target_vocabulary_size} (the model's "
                f"`target_vocabulary_size`), got {len(target_vocabulary)}."
            )
        target_text = _joined_words(model, target_vocabulary)

    search = {
        "max_length": max_length,
        "length_penalty": length_penalty,
        "length_penalty_type": length_penalty_type,
        "coverage_penalty": coverage_penalty,
    }

    def ids_of(texts):
        return at_least_one_step(tf.cast(source_ids(texts), tf.int32))

    def texts_of(sequences, lengths):
        shape = tf.shape(sequences)
        flat = target_text(
            tf.reshape(sequences, [-1, shape[-1]]), tf.reshape(lengths, [-1])
        )
        return tf.reshape(flat, shape[:-1])

    def beam(texts, num_return):
        sequences, scores, lengths = model.generate_ids(
            ids_of(texts),
            "beam",
            beam_width=beam_width,
            num_return=num_return,
            **search,
        )
        return texts_of(sequences, lengths), scores

    def greedy(texts):
        sequences, scores, lengths = model.generate_ids(
            ids_of(texts), "greedy", max_length=max_length
        )
        return {"translation": texts_of(sequences, lengths), "score": scores}

    def best(texts):
        if beam_width == 1:
            return greedy(texts)
        translations, scores = beam(texts, 1)
        return {"translation": translations[:, 0], "score": scores[:, 0]}

    def nbest(texts):
        translations, scores = beam(texts, beam_width)
        return {"translations": translations, "scores": scores}

    tracked = [model, *resources]
    if isinstance(source_ids, keras.layers.Layer):
        tracked.append(source_ids)
    return write_text_signatures(
        path,
        {"serving_default": best, "translate_nbest": nbest, "translate_greedy": greedy},
        tracked,
    )


def _joined_words(model, vocabulary):
    """`(ids, lengths) -> strings`: the words of the real ids joined by spaces."""
    import tensorflow as tf

    words = tf.constant(vocabulary)
    special = [model.pad_id, model.start_id, model.end_id]

    def joined(ids, lengths):
        real = tf.sequence_mask(lengths, tf.shape(ids)[-1])
        for token in special:
            real &= ids != token
        kept = tf.ragged.boolean_mask(tf.gather(words, ids), real)
        return tf.strings.reduce_join(kept, axis=-1, separator=" ")

    return joined
