"""Train, evaluate and export the POS tagger: `train_and_evaluate(config, workdir)`."""

import collections
import os
import time

import keras
import numpy as np

from keras_seq.datasets import Split, load_peoples_daily_pos, load_tagged_text
from keras_seq.export import export_sequence_tagger

from .. import training
from .model import (
    build_characters,
    build_classifier,
    build_text_model,
    build_vectorizer,
)

UNKNOWN_TAG = "[UNK]"
EXAMPLE = "迈向 充满 希望 的 新 世纪"


def load_data(config):
    """The splits of `config.dataset`, inputs as space-separated words."""
    if config.dataset == "peoples_daily":
        splits = load_peoples_daily_pos(seed=config.seed)
    elif os.path.isfile(config.dataset):
        splits = load_tagged_text(config.dataset, seed=config.seed)
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


def train_and_evaluate(config, workdir, strategy=None):
    """Trains on train, keeps the best epoch on valid, reports test token accuracy.

    Writes `model.keras` (space-separated words in, tag probabilities out;
    with `config.char_units` the words' characters are read too),
    checkpoints, TensorBoard `logs/`, `training_curves.png`, `metrics.json`
    and the SavedModel `export/` to `workdir`; returns the metrics.
    `strategy`: a `tf.distribute` strategy whose scope holds the model.
    """
    training.check_installed(config.name)

    os.makedirs(workdir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    splits = load_data(config)
    tag_names = tag_names_of(splits)
    tag_lookup = keras.layers.StringLookup(
        vocabulary=tag_names[1:], num_oov_indices=1, oov_token=UNKNOWN_TAG
    )
    vectorizer = build_vectorizer(config, splits.train.inputs)  # train split only
    characters = (  # train split only, too
        build_characters(config, splits.train.inputs) if config.char_units else None
    )
    with training.scope(strategy):
        classifier = build_classifier(
            config, vectorizer.vocabulary_size(), len(tag_names)
        )
        classifier.compile(
            optimizer=training.adam(config.learning_rate, config.clipnorm),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

    def batches(split, shuffle=False):
        split = in_pieces(split, config.max_length)
        data = split.dataset(config.batch_size, shuffle=shuffle, seed=config.seed)

        def encode(texts, tags):
            # Lengths rounded up to a multiple of 16: a few shapes to compile.
            ids, labels, *chars = training.pad_time(
                [
                    vectorizer(texts),
                    tag_lookup(tags).to_tensor(0),
                    *([] if characters is None else [characters(texts)]),
                ]
            )
            return (ids, *chars) if chars else ids, labels

        return data.map(encode)

    start = time.perf_counter()
    history = classifier.fit(
        batches(splits.train, shuffle=True),
        # The pipeline shuffles; Keras's own `shuffle` does not apply to a
        # tf.data dataset and only warns.
        shuffle=False,
        validation_data=batches(splits.valid),
        epochs=config.epochs,
        callbacks=training.callbacks(
            workdir, monitor="val_accuracy", mode="max", patience=config.patience
        ),
        verbose=training.verbosity(),
    )
    seconds = time.perf_counter() - start
    model = build_text_model(vectorizer, classifier, characters)
    model.save(os.path.join(workdir, "model.keras"))
    # Beside model.keras: `python -m zoo export` reads the tag names here.
    training.write_lines(os.path.join(workdir, "tags.txt"), tag_names)
    skipped = training.export_or_skip(
        config.name, workdir, lambda path: export(model, path, tag_names)
    )
    training.plot_history(
        history.history, os.path.join(workdir, "training_curves.png"), config.name
    )
    accuracy, unknown = token_accuracy(
        model, splits.test, tag_names, known_words(splits)
    )
    baseline = most_frequent_tag_accuracy(splits)
    # One's own data: its first test sentence.
    example = EXAMPLE if config.dataset == "peoples_daily" else splits.test.inputs[0]
    return training.write_metrics(
        workdir,
        {
            **training.run_metrics(config, history, seconds, splits),
            "test_token_accuracy": accuracy,
            "test_unknown_word_accuracy": unknown,
            "most_frequent_tag_accuracy": baseline,
            "example": {"text": example, "tags": tag(model, [example], tag_names)[0]},
            **({"export": skipped} if skipped else {}),
        },
    )


def tag(model, texts, tag_names, batch_size=64):
    """Tag lists for space-separated texts, from the text model (`model.keras`)."""
    results = []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        probabilities = training.call_text_model(model, chunk, bucket=True)
        for text, row in zip(chunk, probabilities.argmax(-1)):
            results.append([tag_names[i] for i in row[: len(text.split())]])
    return results


def known_words(splits):
    """The words of the training split (the vocabulary's candidates)."""
    return {word for text in splits.train.inputs for word in text.split()}


def token_accuracy(model, split, tag_names, known=None):
    """Share of the split's words whose predicted tag is the gold tag.

    With `known` (a set of words) returns `(accuracy, accuracy on the words
    not in known)`, the second None when every word is known.
    """
    predicted = tag(model, split.inputs, tag_names)
    hits = [
        (p == g, word)
        for text, ps, gs in zip(split.inputs, predicted, split.targets)
        for word, p, g in zip(text.split(), ps, gs)
    ]
    accuracy = float(np.mean([hit for hit, _ in hits]))
    if known is None:
        return accuracy
    unknown = [hit for hit, word in hits if word not in known]
    return accuracy, (float(np.mean(unknown)) if unknown else None)


def most_frequent_tag_accuracy(splits):
    """Baseline: each word's most frequent training tag (unknown words: the
    most frequent tag overall), token accuracy on the test split."""
    counts = collections.defaultdict(collections.Counter)
    overall = collections.Counter()
    for text, tags in zip(splits.train.inputs, splits.train.targets):
        for word, t in zip(text.split(), tags):
            counts[word][t] += 1
            overall[t] += 1
    default = overall.most_common(1)[0][0]
    best = {word: c.most_common(1)[0][0] for word, c in counts.items()}
    pairs = [
        (best.get(word, default), t)
        for text, tags in zip(splits.test.inputs, splits.test.targets)
        for word, t in zip(text.split(), tags)
    ]
    return float(np.mean([p == g for p, g in pairs]))


def export(model, path, tag_names=None, **unused):
    """The SavedModel of a text model: space-separated words -> tags."""
    if tag_names is None:
        tag_names = _saved_tag_names(path)
    return export_sequence_tagger(
        path, model.layers[-1], training.string_layers(model), tag_names
    )


def _saved_tag_names(export_path):
    return training.read_lines(os.path.join(os.path.dirname(export_path), "tags.txt"))


def evaluate(model, config, workdir):
    """Test token accuracy of a text model (`model.keras`) of `workdir`."""
    splits = load_data(config)
    tag_names = _saved_tag_names(os.path.join(workdir, "export"))
    accuracy, unknown = token_accuracy(
        model, splits.test, tag_names, known_words(splits)
    )
    return {"test_token_accuracy": accuracy, "test_unknown_word_accuracy": unknown}


def predict_rows(model, texts, workdir, **unused):
    """Space-separated tags per text, from a `ServedModel` or from the text
    model (`model.keras`, tag names from `workdir/tags.txt`)."""
    if callable(getattr(model, "signature", None)):
        return [t.decode() for t in model(texts)["tags"]]
    tag_names = _saved_tag_names(os.path.join(workdir, "export"))
    return [" ".join(tags) for tags in tag(model, texts, tag_names)]
