"""The tagger's data: People's Daily or tagged text of one's own, cut in pieces."""

import os

from keras_seq.datasets import Split, load_peoples_daily_pos, load_tagged_text

from .. import training

UNKNOWN_TAG = "[UNK]"


def load_data(config):
    """The splits of `config.dataset`, inputs as space-separated words."""
    if config.dataset == "peoples_daily":
        splits = load_peoples_daily_pos(seed=config.split_seed)
    elif os.path.isfile(config.dataset):
        splits = load_tagged_text(config.dataset, seed=config.split_seed)
    else:
        raise ValueError(
            "Received an invalid value for `dataset`, expected 'peoples_daily' or "
            "the path of a tagged text file (`word/TAG` lines or `word<TAB>TAG` "
            f"columns), got {config.dataset!r} (no such file)."
        )
    # Served text is split on whitespace: a word must not hold any.
    spaced = next(
        (
            w
            for split in splits
            for words in split.inputs
            for w in words
            if not w or len(w.split()) != 1
        ),
        None,
    )
    if spaced is not None:
        raise ValueError(
            f"{config.dataset}: expected words without whitespace (the model "
            f"reads space-separated words), got {spaced!r}."
        )
    for split in splits:
        split.inputs = [" ".join(words) for words in split.inputs]
    return training.limit_splits(splits, config.train_limit, config.eval_limit)


def in_pieces(split, max_length):
    """`split` with every paragraph longer than `max_length` words cut into
    consecutive pieces of at most `max_length` words, so that training and
    validation read every word (each piece starts from a fresh state)."""
    inputs, targets = [], []
    for text, tags in zip(split.inputs, split.targets):
        words = text.split(" ")
        for start in range(0, len(words), max_length):
            inputs.append(" ".join(words[start : start + max_length]))
            targets.append(list(tags[start : start + max_length]))
    return Split(inputs, targets)


def tag_names_of(splits):
    """Tag id -> name: 0 is a tag unseen in training, then the training tags."""
    return [UNKNOWN_TAG, *sorted({t for tags in splits.train.targets for t in tags})]


def known_words(splits):
    """The words of the training split (the vocabulary's candidates)."""
    return {word for text in splits.train.inputs for word in text.split()}
