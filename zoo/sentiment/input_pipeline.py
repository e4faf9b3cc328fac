"""The sentiment models' data: the built-in corpora or a TSV of one's own,
and the labelled words of a sentiment lexicon added to the training split."""

import os

import numpy as np

from keras_seq import datasets

from .. import training

LABEL_NAMES = ["negative", "positive"]  # of both built-in corpora


LOADERS = {
    "chinese_reviews": datasets.load_chinese_reviews,
    "movie_snippets": datasets.load_movie_snippets,
}


def load_data(config):
    """The splits of `config.dataset`: a corpus of `LOADERS` or a TSV path."""
    if config.dataset in LOADERS:
        splits = LOADERS[config.dataset](seed=config.split_seed)
    elif os.path.isfile(config.dataset):
        splits = datasets.load_tsv(config.dataset, seed=config.split_seed)
        if len(splits.label_names) < 2:
            raise ValueError(
                f"{config.dataset}: expected rows of at least two labels, got "
                f"only {splits.label_names}."
            )
    else:
        raise ValueError(
            "Received an invalid value for `dataset`, expected one of "
            f"{sorted(LOADERS)} or the path of a `text<TAB>label` TSV file, got "
            f"{config.dataset!r} (no such file)."
        )
    return training.limit_splits(splits, config.train_limit, config.eval_limit)


LEXICONS = {"hownet": datasets.load_sentiment_lexicon}


def lexicon_examples(config, label_names):
    """`(words, labels)` of `config.lexicon` in the data's label order.

    The lexicon's words are labelled "negative" or "positive": the data
    must have both labels (others may be there too). With `train_limit`,
    `train_limit` words evenly spaced over the lexicon's sorted lists.
    """
    if config.lexicon is None:
        return [], np.zeros(0, "int32")
    if not {"negative", "positive"} <= set(label_names):
        raise ValueError(
            f"lexicon={config.lexicon!r} adds negative and positive words: "
            f"expected data with the labels 'negative' and 'positive', got "
            f"{list(label_names)}. Train without it: --set lexicon=None."
        )
    words, labels = LEXICONS[config.lexicon]()
    if config.train_limit and config.train_limit < len(words):
        keep = np.linspace(0, len(words) - 1, config.train_limit).astype(int)
        words, labels = [words[i] for i in keep], [labels[i] for i in keep]
    names = ("negative", "positive")
    index = [list(label_names).index(name) for name in names]
    return words, np.array([index[label] for label in labels], "int32")


def training_examples(splits, config):
    """`(texts, labels, weights)`: the training split (weight 1), then the
    lexicon's words (weight `config.lexicon_weight`)."""
    words, word_labels = lexicon_examples(config, splits.label_names or LABEL_NAMES)
    texts = list(splits.train.inputs) + words
    labels = np.concatenate([np.asarray(splits.train.targets, "int32"), word_labels])
    weights = np.concatenate(
        [
            np.ones(len(splits.train), "float32"),
            np.full(len(words), config.lexicon_weight, "float32"),
        ]
    )
    return texts, labels, weights


def training_batches(examples, config, vectorize):
    """Shuffled `(ids, labels, weights)` batches of `examples` (`training_examples`),
    reshuffled every epoch from `config.seed`."""
    import tensorflow as tf

    texts, labels, weights = examples
    data = tf.data.Dataset.from_tensor_slices((tf.constant(texts), labels, weights))
    data = data.shuffle(len(texts), seed=config.seed, reshuffle_each_iteration=True)
    return (
        data.batch(config.batch_size)
        .map(lambda texts, labels, weights: (vectorize(texts), labels, weights))
        .prefetch(tf.data.AUTOTUNE)
    )


def evaluation_batches(split, batch_size, vectorize):
    """`(ids, labels)` batches of a split, in order."""
    data = split.dataset(batch_size)
    return data.map(lambda texts, labels: (vectorize(texts), labels))
