"""The translation models' input pipeline: the pairs, WordPiece subwords, batches."""

from keras_seq import datasets

from .. import text_inputs, training
from .model import END, PAD, RESERVED, START


def load_data(config):
    """The pairs of `config.dataset`: `"ding_de_en"`, `"bible_en_es"`,
    `"bible_es_en"` or the path of a `source<TAB>target` TSV."""
    if config.dataset == "ding_de_en":
        splits = datasets.load_ding_de_en(seed=config.split_seed)
    elif config.dataset in ("bible_en_es", "bible_es_en"):
        direction = "en-es" if config.dataset == "bible_en_es" else "es-en"
        splits = datasets.load_bible_en_es(direction, seed=config.split_seed)
    else:
        splits = datasets.load_translation_tsv(config.dataset, seed=config.split_seed)
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
            (source,) = text_inputs.pad_time([source])
            target_in, target_out = text_inputs.pad_time([target_in, target_out])
        return (source, target_in), target_out

    batches = split.dataset(
        config.batch_size,
        shuffle=shuffle,
        seed=config.seed,
        sort_window=config.sort_window if shuffle else 0,
    )
    return batches.map(tokenize, num_parallel_calls=tf.data.AUTOTUNE)
