"""The sentiment models' data: the built-in corpora or a TSV of one's own,
and the labelled words of a sentiment lexicon added to the training split."""

import os

import numpy as np

from keras_seq import datasets

from .. import training
from .model import trainer_input_names

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
    reshuffled every epoch from `config.seed`.

    With `config.members` networks, each trains on its own order of the
    examples (as separately trained seeds do): `({"ids_0": ids, "ids_1":
    ids, ...}, labels, weights)`, labels and weights `(batch, members)`, a
    column per network (`model.build_trainer`). The first network's order
    is the one network's.
    """
    import tensorflow as tf

    texts, labels, weights = examples

    def stream(seed):
        data = tf.data.Dataset.from_tensor_slices((tf.constant(texts), labels, weights))
        data = data.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
        return data.batch(config.batch_size).map(
            lambda texts, labels, weights: (vectorize(texts), labels, weights)
        )

    if config.members == 1:
        return stream(config.seed).prefetch(tf.data.AUTOTUNE)
    streams = [stream(member_seed(config.seed, k)) for k in range(config.members)]
    names = trainer_input_names(config.members)

    def join(*batches):
        ids = {name: batch[0] for name, batch in zip(names, batches)}
        labels = tf.stack([batch[1] for batch in batches], axis=1)
        weights = tf.stack([batch[2] for batch in batches], axis=1)
        return ids, labels, weights

    # Each stream is an order of the same examples: batches of equal sizes.
    return tf.data.Dataset.zip(tuple(streams)).map(join).prefetch(tf.data.AUTOTUNE)


def member_seed(seed, k):
    """The shuffling seed of the `k`-th network's batches (`seed` for the first)."""
    return seed + 1_000_003 * k


def evaluation_batches(split, batch_size, vectorize, members=1):
    """`(ids, labels)` batches of a split, in order. For the trainer of
    several networks (`members` > 1), each network reads the same ids and
    the labels are `(batch, members)`."""
    import tensorflow as tf

    data = split.dataset(batch_size)
    if members == 1:
        return data.map(lambda texts, labels: (vectorize(texts), labels))
    names = trainer_input_names(members)

    def each(texts, labels):
        ids = vectorize(texts)
        return (
            {name: ids for name in names},
            tf.stack([labels] * members, axis=1),
        )

    return data.map(each)
