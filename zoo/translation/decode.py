"""Translating with a trained model: searches, `Translator`, BLEU, attention."""

import collections
import os
import time

import keras

from keras_seq.decoding import beam_search, greedy_search
from keras_seq.metrics import corpus_bleu

from .. import text_batch, training
from .input_pipeline import source_ids, target_ids, tokenizer_for
from .model import (
    END,
    START,
    attention_weights,
    build_translator,
    encode,
    step_function,
)
from .transformer import (
    attention_weights_transformer,
    build_transformer,
    encode_transformer,
    step_function_transformer,
)

# Ten fixed test sentences whose translations the README reports.
REPORTED = 10


class Architecture(
    collections.namedtuple(
        "Architecture", ["build", "start_state", "step_function", "attention_weights"]
    )
):
    """What differs between the translation networks: `build(config, source_vocabulary,
    target_vocabulary)`, `start_state(model, source, max_length)` (the search
    state after encoding), `step_function(model)` and `attention_weights(model,
    source, target_in)` (`(batch, T, S)`, for the heatmap)."""


ARCHITECTURES = {
    "rnn": Architecture(
        build_translator,
        lambda model, source, max_length: encode(model, source),
        step_function,
        attention_weights,
    ),
    "transformer": Architecture(
        build_transformer,
        encode_transformer,
        step_function_transformer,
        attention_weights_transformer,
    ),
}


def architecture_of(config):
    """The `Architecture` of `config.architecture` (checked by the config)."""
    return ARCHITECTURES[config.architecture]


def detokenize(tokenizer, ids, lengths):
    """Generated ids (the end token and padding after `lengths`) -> strings.

    WordPiece joins subwords with spaces and splits off punctuation; the
    spaces it adds around punctuation and apostrophes are removed again.
    """
    import tensorflow as tf

    real = tf.sequence_mask(lengths, tf.shape(ids)[-1]) & (ids != END)
    text = tokenizer.detokenize(tf.ragged.boolean_mask(ids, real))
    text = tf.strings.regex_replace(text, r" ([.,!?;:%)])", r"\1")
    text = tf.strings.regex_replace(text, r"([(]) ", r"\1")
    text = tf.strings.regex_replace(text, r" ?([’'-]) ?", r"\1")
    return tf.strings.strip(text)


def translate_ids(
    model,
    source,
    max_length,
    beam_width=4,
    alpha=0.7,
    num_return=1,
    architecture="rnn",
):
    """Source ids `(batch, S)` -> `(sequences, scores, lengths)`, n-best.

    `beam_width=1` is greedy search; otherwise `keras_seq.decoding.beam_search`
    with length penalty `alpha`. Returns `(batch, num_return, max_length)`
    ids, `(batch, num_return)` scores (log-probability / length**alpha for
    beams, total log-probability for greedy) and lengths (end included).
    """
    from keras import ops

    search = "greedy" if beam_width == 1 else "beam"
    if architecture == "rnn":
        # The library's own decoding: `keras_seq.models.Seq2Seq.generate_ids`.
        outputs = model.generate_ids(
            source,
            search,
            max_length=max_length,
            beam_width=beam_width,
            num_return=num_return,
            length_penalty=alpha,
        )
    else:
        pieces = ARCHITECTURES[architecture]
        state = pieces.start_state(model, source, max_length)
        step = pieces.step_function(model)
        start = ops.full((ops.shape(source)[0],), START, "int32")
        if search == "greedy":
            outputs = greedy_search(step, state, start, END, max_length)
        else:
            outputs = beam_search(
                step,
                state,
                start,
                END,
                beam_width=beam_width,
                max_length=max_length,
                length_penalty=alpha,
                num_return=num_return,
            )
    if search == "greedy":
        return tuple(ops.expand_dims(x, 1) for x in outputs)
    return outputs


class Translator:
    """Strings in, strings out: tokenize, encode, search, detokenize.

    The same graph runs in Python and inside the exported SavedModel.
    """

    def __init__(self, model, source_vocabulary, target_vocabulary, config):
        training.needs_tensorflow_backend(config.name)
        self.model = model
        self.config = config
        self.source_tokenizer = tokenizer_for(source_vocabulary)
        self.target_tokenizer = tokenizer_for(target_vocabulary)
        self._compiled = {}

    def strings(self, texts, beam_width, alpha, num_return=1):
        """`(batch,)` strings -> `(batch, num_return)` strings and scores."""
        import tensorflow as tf

        source = source_ids(self.source_tokenizer, texts, self.config.max_source_tokens)
        sequences, scores, lengths = translate_ids(
            self.model,
            source,
            self.config.max_target_tokens,
            beam_width,
            alpha,
            num_return,
            self.config.architecture,
        )
        shape = tf.shape(sequences)
        flat = detokenize(
            self.target_tokenizer,
            tf.reshape(sequences, [-1, shape[-1]]),
            tf.reshape(lengths, [-1]),
        )
        return tf.reshape(flat, shape[:2]), scores

    def translate(self, texts, beam_width=None, alpha=None, num_return=1):
        """Python strings in, Python strings out (n-best lists if num_return > 1).

        `texts` as `zoo.text_batch` takes them: one string is a batch of one.
        """
        import tensorflow as tf

        beam_width = self.config.beam_width if beam_width is None else beam_width
        alpha = self.config.length_penalty if alpha is None else alpha
        key = (beam_width, alpha, num_return)
        if key not in self._compiled:
            # Graph mode: keras-hub tokenizers give Python lists when eager.
            # One trace for every batch size (a split's last batch is shorter).
            self._compiled[key] = tf.function(
                lambda texts: self.strings(texts, *key),
                autograph=False,
                input_signature=[tf.TensorSpec([None], tf.string)],
            )
        strings, _ = self._compiled[key](text_batch(texts))
        rows = [[s.decode() for s in row] for row in strings.numpy()]
        return [row[0] for row in rows] if num_return == 1 else rows


def translator_of(model, workdir, config):
    """The `Translator` of a trained model and the vocabularies in `workdir`."""
    return Translator(
        model,
        training.read_lines(os.path.join(workdir, "source_vocabulary.txt")),
        training.read_lines(os.path.join(workdir, "target_vocabulary.txt")),
        config,
    )


def bleu(hypotheses, references):
    """sacreBLEU (13a tokenisation) and our `corpus_bleu` on the same tokens."""
    import sacrebleu
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    theirs = sacrebleu.corpus_bleu(hypotheses, [references]).score
    tokenize = Tokenizer13a()
    ours = corpus_bleu(
        [tokenize(h) for h in hypotheses], [[tokenize(r)] for r in references]
    ).score
    return {"sacrebleu": round(theirs, 2), "corpus_bleu": round(ours, 2)}


def evaluate_bleu(translator, split, settings=None):
    """BLEU of greedy and beam searches on `split`, with their wall times.

    `settings`: `(beam_width, alpha)` pairs. Defaults to those a run
    reports: greedy, then the translator's beam width without a length
    penalty and at its config's `length_penalty`.
    """
    if settings is None:
        width, alpha = translator.config.beam_width, translator.config.length_penalty
        settings = ((1, 0.0), (width, 0.0), (width, alpha))
    results = {}
    for beam_width, alpha in settings:
        start = time.perf_counter()
        hypotheses = []
        for i in range(0, len(split), 256):
            hypotheses += translator.translate(
                split.inputs[i : i + 256], beam_width=beam_width, alpha=alpha
            )
        seconds = time.perf_counter() - start
        name = "greedy" if beam_width == 1 else f"beam{beam_width}_alpha{alpha}"
        results[name] = {
            **bleu(hypotheses, list(split.targets)),
            "seconds": round(seconds, 1),
            "sentences_per_second": round(len(split) / seconds, 1),
            "examples": [
                {"source": s, "reference": r, "translation": h}
                for s, r, h in zip(
                    split.inputs[:REPORTED], split.targets[:REPORTED], hypotheses
                )
            ],
        }
    return results


@training.optional_plot
def plot_attention(translator, text, path):
    """Heatmap of the attention weights of `text`'s translation (beam search)."""
    import tensorflow as tf

    from keras_seq.plotting import plot_attention as draw

    translation = translator.translate([text])[0]
    config = translator.config

    @tf.function(autograph=False)
    def weights_of(text, translation):
        source = source_ids(translator.source_tokenizer, text, config.max_source_tokens)
        target_in, _ = target_ids(
            translator.target_tokenizer, translation, config.max_target_tokens
        )
        weights = architecture_of(config).attention_weights(
            translator.model, source, target_in
        )
        return source, target_in, weights

    source, target_in, weights = weights_of(
        tf.constant([text]), tf.constant([translation])
    )
    source_words = [translator.source_tokenizer.id_to_token(int(i)) for i in source[0]]
    target_words = [
        translator.target_tokenizer.id_to_token(int(i)) for i in target_in[0][1:]
    ] + ["[END]"]
    weights = keras.ops.convert_to_numpy(weights)[0]
    draw(
        weights[: len(target_words), : len(source_words)],
        source_words,
        target_words,
        path,
        title="attention of the beam-search translation",
    )
    return path
