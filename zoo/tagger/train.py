"""Train and evaluate the POS tagger: `train_and_evaluate(config, workdir)`.

The task's other modules: `input_pipeline` (the data, cut in pieces),
`model` (the network and its tokens) and `serve` (tagging, the SavedModel;
`export` and `predict_rows` are the task contract's, `zoo/task.py`).
"""

import collections
import os

import keras
import numpy as np

from .. import distribute, text_inputs, training
from .input_pipeline import UNKNOWN_TAG, in_pieces, known_words, load_data, tag_names_of
from .model import (
    build_characters,
    build_classifier,
    build_text_model,
    build_vectorizer,
)
from .serve import export, predict_rows, saved_tag_names, tag

__all__ = ["evaluate", "export", "predict_rows", "train_and_evaluate"]


EXAMPLE = "迈向 充满 希望 的 新 世纪"


def train_and_evaluate(config, workdir, strategy=None):
    """Trains on train, keeps the best epoch on valid, reports test token accuracy.

    Writes `model.keras` (space-separated words in, tag probabilities out;
    with `config.char_units` the words' characters are read too),
    checkpoints, TensorBoard `logs/`, `training_curves.png`, `metrics.json`
    and the SavedModel `export/` to `workdir`; returns the metrics.
    `strategy`: a `tf.distribute` strategy whose scope holds the model.
    """
    training.prepare(config, workdir)
    splits = load_data(config)
    tag_names = tag_names_of(splits)
    tag_lookup = keras.layers.StringLookup(
        vocabulary=tag_names[1:], num_oov_indices=1, oov_token=UNKNOWN_TAG
    )
    vectorizer = build_vectorizer(config, splits.train.inputs)  # train split only
    characters = (  # train split only, too
        build_characters(config, splits.train.inputs) if config.char_units else None
    )
    with distribute.scope(strategy):
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
            ids, labels, *chars = text_inputs.pad_time(
                [
                    vectorizer(texts),
                    tag_lookup(tags).to_tensor(0),
                    *([] if characters is None else [characters(texts)]),
                ]
            )
            return (ids, *chars) if chars else ids, labels

        return data.map(encode)

    history, seconds = training.fit(
        classifier,
        batches(splits.train, shuffle=True),
        batches(splits.valid),
        config,
        workdir,
        monitor="val_accuracy",
        mode="max",
    )
    model = build_text_model(vectorizer, classifier, characters)
    accuracy, unknown = token_accuracy(
        model, splits.test, tag_names, known_words(splits)
    )
    baseline = most_frequent_tag_accuracy(splits)
    # One's own data: its first test sentence.
    example = EXAMPLE if config.dataset == "peoples_daily" else splits.test.inputs[0]
    return training.finish(
        config,
        workdir,
        model,
        history,
        seconds,
        splits,
        export=lambda path: export(model, path, tag_names),
        # Beside model.keras: `python -m zoo export` reads the tag names here.
        files={"tags.txt": tag_names},
        metrics={
            "test_token_accuracy": accuracy,
            "test_unknown_word_accuracy": unknown,
            "most_frequent_tag_accuracy": baseline,
            "example": {"text": example, "tags": tag(model, [example], tag_names)[0]},
        },
    )


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


def evaluate(model, config, workdir):
    """Test token accuracy of a text model (`model.keras`) of `workdir`."""
    splits = load_data(config)
    tag_names = saved_tag_names(os.path.join(workdir, "export"))
    accuracy, unknown = token_accuracy(
        model, splits.test, tag_names, known_words(splits)
    )
    return {"test_token_accuracy": accuracy, "test_unknown_word_accuracy": unknown}
