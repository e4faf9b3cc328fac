"""Train, evaluate and export the translation models: `train_and_evaluate(config, workdir)`."""

import collections
import os
import time

import keras

from keras_seq import datasets
from keras_seq.decoding import ScheduledSampling, beam_search, greedy_search
from keras_seq.metrics import corpus_bleu

from .. import text_batch, training
from .model import (
    END,
    PAD,
    RESERVED,
    START,
    attention_weights,
    build_translator,
    encode,
    step_function,
)
from .transformer import (
    MaskedSmoothedCrossEntropy,
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


def load_data(config):
    """The pairs of `config.dataset`: `"ding_de_en"`, `"bible_en_es"`,
    `"bible_es_en"` or the path of a `source<TAB>target` TSV."""
    if config.dataset == "ding_de_en":
        splits = datasets.load_ding_de_en(seed=config.seed)
    elif config.dataset in ("bible_en_es", "bible_es_en"):
        direction = "en-es" if config.dataset == "bible_en_es" else "es-en"
        splits = datasets.load_bible_en_es(direction, seed=config.seed)
    else:
        splits = datasets.load_translation_tsv(config.dataset, seed=config.seed)
    return training.limit_splits(splits, config.train_limit, config.eval_limit)


def learn_vocabulary(texts, size):
    """WordPiece subwords of `texts` (keras-hub's learner), reserved tokens first."""
    import keras_hub
    import tensorflow as tf

    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(list(texts)).batch(1000),
        vocabulary_size=size,
        lowercase=False,
        strip_accents=False,
        reserved_tokens=RESERVED,
    )


def tokenizer_for(vocabulary):
    """The in-graph WordPiece tokenizer: strings -> ragged int32 ids."""
    import keras_hub

    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=list(vocabulary),
        lowercase=False,
        strip_accents=False,
        oov_token="[UNK]",
        dtype="int32",
    )
    # Built now (it has no weights): Keras exports only built layers, and a
    # translator made for `python -m zoo export` has not tokenized yet.
    tokenizer.build(None)
    return tokenizer


def source_ids(tokenizer, texts, max_tokens):
    """`(batch,)` strings -> `(batch, S)` ids padded with 0.

    Each source is cut to `max_tokens - 1` subwords and ends with `[END]`, so
    an empty text is one token long, never an empty sequence.
    """
    import tensorflow as tf

    ids = tokenizer(texts)[:, : max_tokens - 1]
    end = tf.fill([tf.shape(texts)[0], 1], END)
    return tf.concat([ids, end], axis=1).to_tensor(default_value=PAD)


def target_ids(tokenizer, texts, max_tokens):
    """`(target_in, target_out)`: `[START] y` and `y [END]`, `(batch, T)` each."""
    import tensorflow as tf

    ids = tokenizer(texts)[:, : max_tokens - 1]
    column = tf.fill([tf.shape(texts)[0], 1], 0)
    target_in = tf.concat([column + START, ids], axis=1).to_tensor(default_value=PAD)
    target_out = tf.concat([ids, column + END], axis=1).to_tensor(default_value=PAD)
    return target_in, target_out


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
            self._compiled[key] = tf.function(
                lambda texts: self.strings(texts, *key), autograph=False
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


def dataset(split, translator, config, shuffle=False):
    """`((source, target_in), target_out)` batches of a split."""
    import tensorflow as tf

    def tokenize(sources, targets):
        source = source_ids(
            translator.source_tokenizer, sources, config.max_source_tokens
        )
        target_in, target_out = target_ids(
            translator.target_tokenizer, targets, config.max_target_tokens
        )
        if config.architecture == "rnn":
            # Lengths rounded up to a multiple of 16: the recurrent loops
            # compile a few shapes, not one per batch (the Transformer
            # compiles nothing per shape, and attends over every position).
            (source,) = training.pad_time([source])
            target_in, target_out = training.pad_time([target_in, target_out])
        return (source, target_in), target_out

    return split.dataset(config.batch_size, shuffle=shuffle, seed=config.seed).map(
        tokenize, num_parallel_calls=tf.data.AUTOTUNE
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


def evaluate_bleu(translator, split, settings=((1, 0.0), (4, 0.0), (4, 0.7))):
    """BLEU of greedy and beam searches on `split`, with their wall times."""
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


def target_log_frequencies(targets, vocabulary_size):
    """Log relative frequency of each target id in `targets` (add-one smoothed).

    `targets` is an iterable of `target_out` id arrays (padding 0 ignored);
    returns a float32 `(vocabulary_size,)` array.
    """
    import numpy as np

    counts = np.ones(vocabulary_size)
    for ids in targets:
        ids = np.asarray(ids).ravel()
        np.add.at(counts, ids[ids != PAD], 1)
    return np.log(counts / counts.sum()).astype("float32")


def initialise_output_bias(model, log_frequencies):
    """Start the `logits` layer's bias at the targets' log frequencies.

    At initialisation the network then predicts the unigram distribution.
    Without this Adam, which moves every weight at the same pace, reaches
    the unigram distribution sooner through the output kernel than through
    the bias, by driving the `tanh` layer before it into a constant,
    saturated pattern; its gradient then vanishes and training stalls near
    the unigram loss (measured: 5.7 instead of 4.6 after 3 epochs on 4,000
    pairs, and no learning at all with a larger vocabulary).
    """
    model.get_layer("logits").bias.assign(log_frequencies)


def build_model(config, source_vocabulary, target_vocabulary):
    """The teacher-forced network of `config.architecture`."""
    return architecture_of(config).build(config, source_vocabulary, target_vocabulary)


def compile_model(model, config, steps_per_epoch):
    """Adam with global-norm clipping and the padding-masked loss.

    The Transformer adds label smoothing and a linear warm-up of
    `warmup_steps` followed by cosine decay over the epochs (Keras's
    `CosineDecay`); the RNN keeps a constant rate.
    """
    rate = config.learning_rate
    loss = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=PAD
    )
    if config.architecture == "transformer":
        total = max(steps_per_epoch * config.epochs, config.warmup_steps + 1)
        rate = keras.optimizers.schedules.CosineDecay(
            0.0,
            decay_steps=total - config.warmup_steps,
            warmup_target=config.learning_rate,
            warmup_steps=config.warmup_steps,
        )
        loss = MaskedSmoothedCrossEntropy(config.label_smoothing)
    model.compile(
        optimizer=training.adam(rate, config.clipnorm),
        loss=loss,
    )


def scheduled_sampling_callbacks(config):
    """The `ScheduledSampling` ramp when `config.scheduled_sampling` > 0.

    The probability of reading the model's own prediction starts at 0 and
    rises by `scheduled_sampling_step` per epoch up to
    `scheduled_sampling` (RNN only; the Transformer ignores it).
    """
    if not config.scheduled_sampling or config.architecture != "rnn":
        return []
    return [
        ScheduledSampling(
            "linear",
            k=config.scheduled_sampling_step,
            maximum=config.scheduled_sampling,
        )
    ]


def train_and_evaluate(config, workdir, strategy=None):
    """Learns subwords and trains on the train split; BLEU on the test split.

    Writes to `workdir`: the vocabularies, `model.keras`, checkpoints, logs,
    `training_curves.png`, `attention.png`, `metrics.json` (test BLEU of
    greedy and beam search) and the SavedModel `export/`.
    """
    training.check_installed(config.name)
    training.needs_tensorflow_backend(config.name)
    os.makedirs(workdir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    splits = load_data(config)
    source_vocabulary = learn_vocabulary(splits.train.inputs, config.vocabulary_size)
    target_vocabulary = learn_vocabulary(splits.train.targets, config.vocabulary_size)
    training.write_lines(
        os.path.join(workdir, "source_vocabulary.txt"), source_vocabulary
    )
    training.write_lines(
        os.path.join(workdir, "target_vocabulary.txt"), target_vocabulary
    )
    with training.scope(strategy):
        model = build_model(config, len(source_vocabulary), len(target_vocabulary))
        steps = -(-len(splits.train) // config.batch_size)
        compile_model(model, config, steps_per_epoch=steps)
    translator = Translator(model, source_vocabulary, target_vocabulary, config)
    initialise_output_bias(
        model,
        target_log_frequencies(
            (target.numpy() for _, target in dataset(splits.train, translator, config)),
            len(target_vocabulary),
        ),
    )
    start = time.perf_counter()
    history = model.fit(
        dataset(splits.train, translator, config, shuffle=True),
        # The pipeline shuffles; Keras's own `shuffle` does not apply to a
        # tf.data dataset and only warns.
        shuffle=False,
        validation_data=dataset(splits.valid, translator, config),
        epochs=config.epochs,
        callbacks=[
            *training.callbacks(workdir, patience=config.patience),
            *scheduled_sampling_callbacks(config),
        ],
        verbose=training.verbosity(),
    )
    seconds = time.perf_counter() - start
    model.save(os.path.join(workdir, "model.keras"))
    training.plot_history(
        history.history, os.path.join(workdir, "training_curves.png"), config.name
    )
    plot_attention(
        translator, splits.test.inputs[0], os.path.join(workdir, "attention.png")
    )
    metrics = {
        **training.run_metrics(config, history, seconds, splits),
        "vocabulary": {
            "source": len(source_vocabulary),
            "target": len(target_vocabulary),
        },
        "test_bleu": evaluate_bleu(translator, splits.test),
    }
    export(model, os.path.join(workdir, "export"), config, translator)
    return training.write_metrics(workdir, metrics)


@training.optional_plot
def plot_attention(translator, text, path):
    """Heatmap of the attention weights of `text`'s translation (beam search)."""
    import matplotlib
    import tensorflow as tf

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    weights = keras.ops.convert_to_numpy(weights)[0]
    source_words = [translator.source_tokenizer.id_to_token(int(i)) for i in source[0]]
    target_words = [
        translator.target_tokenizer.id_to_token(int(i)) for i in target_in[0][1:]
    ] + ["[END]"]
    figure, axis = plt.subplots(
        figsize=(max(4, 0.45 * len(source_words)), max(3, 0.4 * len(target_words)))
    )
    axis.imshow(weights[: len(target_words), : len(source_words)], cmap="viridis")
    axis.set_xticks(range(len(source_words)), source_words, rotation=90)
    axis.set_yticks(range(len(target_words)), target_words)
    axis.set_xlabel("source subwords")
    axis.set_ylabel("generated subwords")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


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


def evaluate(model, config, workdir):
    """Test BLEU of a trained `model.keras` of `workdir`."""
    splits = load_data(config)
    return evaluate_bleu(translator_of(model, workdir, config), splits.test)


def predict_rows(model, texts, config, workdir):
    """The translation of each text (from the SavedModel when there is one)."""
    if callable(getattr(model, "signature", None)):
        return [t.decode() for t in model(texts)["translation"]]
    return translator_of(model, workdir, config).translate(texts)
