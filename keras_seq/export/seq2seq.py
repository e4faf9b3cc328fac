"""A `keras_seq.models.Seq2Seq` as a SavedModel from text to text."""

import keras

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
        beam_width: Of the beam search (`keras_seq.decoding.beam_search`).
        length_penalty: Of the beam search (`keras_seq.decoding.beam_search`).
        length_penalty_type: Of the beam search (`keras_seq.decoding.beam_search`).
        coverage_penalty: Of the beam search (`keras_seq.decoding.beam_search`).
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


class _Encoder(keras.Model):
    """`source (batch, S) -> [*decoder states, memory, memory mask (float)]`."""

    def __init__(self, seq2seq, **kwargs):
        super().__init__(**kwargs)
        self.seq2seq = seq2seq

    def call(self, source):
        state = self.seq2seq.encode(source)
        mask = keras.ops.cast(state["memory_mask"], "float32")
        return [*state["decoder"], state["memory"], mask]


class _DecoderStep(keras.Model):
    """`[tokens (n,), *states, memory, memory mask] -> [logits, *states,
    attention weights]`: `Seq2Seq.step`."""

    def __init__(self, seq2seq, num_states, **kwargs):
        super().__init__(**kwargs)
        self.seq2seq = seq2seq
        self.num_states = num_states

    def call(self, inputs):
        tokens, *rest = inputs
        states, memory, mask = rest[: self.num_states], rest[-2], rest[-1]
        state = {
            "decoder": list(states),
            "memory": memory,
            "memory_mask": keras.ops.cast(mask, "bool"),
        }
        logits, state, weights = self.seq2seq.step(tokens, state)
        return [logits, *state["decoder"], weights]


def export_encoder(encoder, directory, format, pad_id):
    """Exports `encoder` (source ids `(batch, S)` -> a list of arrays) as
    `directory/encoder.onnx` (`.tflite`), checked at two shapes: batch 2
    with 7 source ids, batch 3 with 11, the last row padded with `pad_id`
    from the middle on. Returns the `ExportedModel`, the two sources and
    the encoder's outputs on each (NumPy), e.g. to check a decoder step."""
    import os

    import numpy as np

    from keras_seq.export.portable import EXTENSIONS, export_model

    sources = []
    for batch, length in ((2, 7), (3, 11)):
        ids = np.random.default_rng(length).integers(3, 20, size=(batch, length))
        ids[-1, length // 2 :] = pad_id
        sources.append(ids.astype("int32"))
    encoded = [
        [keras.ops.convert_to_numpy(x) for x in encoder(source)] for source in sources
    ]
    exported = export_model(
        encoder,
        os.path.join(directory, "encoder" + EXTENSIONS[format]),
        format=format,
        examples=sources,
        input_signature=[
            keras.InputSpec(shape=(None, None), dtype="int32", name="source")
        ],
    )
    return exported, sources, encoded


def export_seq2seq_steps(model, directory, format="onnx"):
    """Writes a `Seq2Seq`'s encoder and one decoder step as ONNX or LiteRT
    files, each checked in its runtime (`export_model`); the search around
    them (greedy or beam) is the caller's.

    Files, in `directory`:

    - `encoder.onnx` (`.tflite`): `source` int32 `(batch, S)` ids padded with
      `model.pad_id` -> `decoder_state_0 ... decoder_state_{k-1}` (the
      decoder's states), `memory` `(batch, S, memory_dim)`, `memory_mask`
      `(batch, S)` (1.0 at real source tokens, 0.0 at padding);
    - `decoder_step.onnx` (`.tflite`): `tokens` int32 `(n,)` (the previous
      token, `model.start_id` first), the k states, `memory`,
      `memory_mask` -> the next token's logits `(n, vocabulary)`, the new
      states and the attention weights `(n, S)`.

    Outputs come in that order (LiteRT names them `output_0`, `output_1`,
    ...). Returns the two `ExportedModel`s.
    """
    import os

    import numpy as np

    from keras_seq.export.portable import EXTENSIONS, export_model

    if format not in EXTENSIONS:
        raise ValueError(f"Expected `format` in {sorted(EXTENSIONS)}, got {format!r}.")
    os.makedirs(directory, exist_ok=True)
    encoder_file, sources, encoded = export_encoder(
        _Encoder(model, name="encoder"), directory, format, model.pad_id
    )
    num_states = len(encoded[0]) - 2
    spec = keras.InputSpec
    step = _DecoderStep(model, num_states, name="decoder_step")
    steps = [
        [np.full((len(source),), model.start_id, "int32"), *state]
        for source, state in zip(sources, encoded)
    ]
    signature = [
        spec(shape=(None,), dtype="int32", name="tokens"),
        *[
            spec(shape=(None, s.shape[-1]), dtype="float32", name=f"decoder_state_{i}")
            for i, s in enumerate(encoded[0][:num_states])
        ],
        spec(
            shape=(None, None, encoded[0][-2].shape[-1]), dtype="float32", name="memory"
        ),
        spec(shape=(None, None), dtype="float32", name="memory_mask"),
    ]
    step_file = export_model(
        step,
        os.path.join(directory, "decoder_step" + EXTENSIONS[format]),
        format=format,
        examples=steps,
        input_signature=[signature],
    )
    return encoder_file, step_file
