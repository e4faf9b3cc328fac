"""Train, evaluate and export the sentiment models: `train_and_evaluate(config, workdir)`."""

import os
import time

import keras
import numpy as np

from keras_seq import datasets
from keras_seq.export import export_text_classifier

from .. import training
from .model import (
    build_attention_model,
    build_classifier,
    build_text_model,
    build_vectorizer,
)

LABEL_NAMES = ["negative", "positive"]  # of both built-in corpora
LABELS_FILE = "labels.txt"  # the class names of a run, one a line, in the workdir
# The course notes' example review (positive: "so much fun I cannot stop").
NOTES_REVIEW = "不要把手放在switch上，因为一放上去就根本停不下来，太好玩了！"
EXAMPLES = {
    "sentiment_zh": NOTES_REVIEW,
    "sentiment_en": "A gorgeous, witty, seductive movie.",
}
LOADERS = {
    "chinese_reviews": datasets.load_chinese_reviews,
    "movie_snippets": datasets.load_movie_snippets,
}


def load_data(config):
    """The splits of `config.dataset`: a corpus of `LOADERS` or a TSV path."""
    if config.dataset in LOADERS:
        splits = LOADERS[config.dataset](seed=config.seed)
    elif os.path.isfile(config.dataset):
        splits = datasets.load_tsv(config.dataset, seed=config.seed)
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
    return training.limit_splits(splits, config.train_limit)


def train_and_evaluate(config, workdir, strategy=None):
    """Trains on the train split, keeps the best epoch on valid, reports test.

    Writes to `workdir`: `model.keras` (strings in, probabilities out),
    `best.keras` / `last.keras` checkpoints of the classifier, TensorBoard
    `logs/`, `training_curves.png`, `metrics.json` and the SavedModel
    `export/`. Returns the metrics. `strategy`: a `tf.distribute` strategy
    whose scope holds the model (None: the default).
    """
    training.check_installed(config.name)
    os.makedirs(workdir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    splits = load_data(config)
    vectorizer = build_vectorizer(config, splits.train.inputs)  # train split only
    with training.scope(strategy):
        classifier = build_classifier(
            config, vectorizer.vocabulary_size(), len(splits.label_names)
        )
        classifier.compile(
            optimizer=training.adam(config.learning_rate, config.clipnorm),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

    def batches(split, shuffle=False):
        data = split.dataset(config.batch_size, shuffle=shuffle, seed=config.seed)
        return data.map(lambda texts, labels: (vectorizer(texts), labels))

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
    test_loss, test_accuracy = classifier.evaluate(batches(splits.test), verbose=0)
    model = build_text_model(vectorizer, classifier)
    model.save(os.path.join(workdir, "model.keras"))
    label_names = splits.label_names
    training.write_lines(os.path.join(workdir, LABELS_FILE), label_names)
    skipped = training.export_or_skip(
        config.name, workdir, lambda path: export(model, path, label_names)
    )
    training.plot_history(
        history.history, os.path.join(workdir, "training_curves.png"), config.name
    )
    if config.dataset in LOADERS:
        example = EXAMPLES[config.name]
    else:  # one's own data: its first test text
        example = splits.test.inputs[0]
    probabilities = predict(model, [example])[0]
    attention_heatmap(
        model, example, os.path.join(workdir, "attention.png"), label_names
    )
    return training.write_metrics(
        workdir,
        {
            **training.run_metrics(config, history, seconds, splits),
            "test_loss": float(test_loss),
            "test_accuracy": float(test_accuracy),
            "example": {
                "text": example,
                "label": label_names[int(np.argmax(probabilities))],
                "probability": float(np.max(probabilities)),
            },
            **({"export": skipped} if skipped else {}),
        },
    )


@training.optional_plot
def attention_heatmap(model, text, path, label_names=LABEL_NAMES):
    """PNG of the attention-pooling weight of each token of `text`."""
    import tensorflow as tf

    from keras_seq.plotting import plot_attention

    vectorizer = model.get_layer("tokens")
    ids = keras.ops.convert_to_numpy(vectorizer(tf.constant([text])))
    classifier = model.layers[-1]
    ngrams = classifier.get_layer("embedding").ngrams
    token_ids = ids[0, ::ngrams]  # each position's token
    length = max(1, int((token_ids != 0).sum()))
    probabilities, weights = build_attention_model(classifier)(ids, training=False)
    probabilities = keras.ops.convert_to_numpy(probabilities)[0]
    vocabulary = vectorizer.get_vocabulary()
    tokens = [vocabulary[i] for i in token_ids[:length]]
    label = label_names[int(probabilities.argmax())]
    _use_cjk_font()
    plot_attention(
        keras.ops.convert_to_numpy(weights)[:, :length],
        tokens,
        ["weight"],
        path,
        title=f"{label} ({probabilities.max():.2f})",
    )
    return path


def _use_cjk_font():
    """Chinese glyphs need a CJK font: use one matplotlib finds, if any."""
    import matplotlib
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    for name in ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "SimHei"):
        if name in installed:
            matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
            return


def export(model, path, label_names=None, **unused):
    """The SavedModel of a text model (`model.keras`): texts -> label, probability.

    `label_names` defaults to the `labels.txt` beside `path` (the workdir's).
    """
    if label_names is None:
        label_names = saved_label_names(os.path.dirname(os.path.abspath(path)))
    classifier = model.layers[-1]
    classes = classifier.output_shape[-1]
    if classes != len(label_names):
        raise ValueError(
            f"The model has {classes} classes, expected as many label names, got "
            f"{len(label_names)}: {list(label_names)[:5]}."
        )
    # The classifier masks id 0 and reads a token's id and its n-grams'
    # together: a batch of short texts is served at its own length.
    ngrams = classifier.get_layer("embedding").ngrams
    return export_text_classifier(
        path, classifier, model.get_layer("tokens"), label_names, cut_padding=ngrams
    )


def saved_label_names(workdir):
    """The class names a run wrote to `workdir/labels.txt`.

    (Runs from before that file existed trained the two built-in corpora:
    `LABEL_NAMES`.)
    """
    path = os.path.join(workdir, LABELS_FILE) if workdir else None
    if path is None or not os.path.exists(path):
        return LABEL_NAMES
    return training.read_lines(path)


def evaluate(model, config, workdir=None):
    """Test accuracy of a text model (`model.keras`) on the preset's test split.

    Predicted and true labels are compared by name (the run's `labels.txt`
    against the data's), so data whose labels sort differently still counts
    right; data with a label the model never learnt is refused.
    """
    splits = load_data(config)
    model_names = list(saved_label_names(workdir))
    data_names = list(splits.label_names or LABEL_NAMES)
    unknown = sorted(set(data_names) - set(model_names))
    if unknown:
        raise ValueError(
            f"The evaluation data ({config.dataset}) has labels {unknown} that the "
            f"model was not trained on: it knows {model_names}."
        )
    probabilities = predict(model, splits.test.inputs)
    predicted = np.array(model_names)[probabilities.argmax(-1)]
    truth = np.array(data_names)[splits.test.targets]
    accuracy = float(np.mean(predicted == truth))
    return {"test_accuracy": accuracy, "test_size": len(splits.test)}


def predict_rows(model, texts, workdir=None, **unused):
    """`label<TAB>probability` per text, from a text model or a `ServedModel`."""
    if callable(getattr(model, "signature", None)):
        outputs = model(texts)
        labels = [label.decode() for label in outputs["label"]]
        return [f"{l}\t{p:.3f}" for l, p in zip(labels, outputs["probability"])]
    probabilities = predict(model, texts)
    names = saved_label_names(workdir)
    return [f"{names[int(row.argmax())]}\t{row.max():.3f}" for row in probabilities]


def predict(model, texts):
    """Class probabilities `(n, classes)` of `model.keras`'s text model for `texts`."""
    return training.call_text_model(model, list(texts))


def bag_of_words_classifier(splits, config, epochs=20):
    """Logistic regression on multi-hot tokens and n-grams: `texts -> probabilities`.

    The same tokens as `config` (vocabulary from the training split), a
    softmax over the classes of `splits`, Adam, early stopping on the
    validation split's loss (the best epoch kept).
    """
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    vectorizer = keras.layers.TextVectorization(
        max_tokens=config.max_tokens,
        standardize=config.standardize,
        split=config.split,
        ngrams=config.ngrams,
        output_mode="multi_hot",
    )
    vectorizer.adapt(splits.train.inputs)
    classes = len(splits.label_names or LABEL_NAMES)
    model = keras.Sequential([keras.layers.Dense(classes, activation="softmax")])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy"
    )

    def features(texts):
        return vectorizer(tf.constant(list(texts)))

    model.fit(
        features(splits.train.inputs),
        splits.train.targets,
        validation_data=(features(splits.valid.inputs), splits.valid.targets),
        epochs=epochs,
        batch_size=64,
        callbacks=[
            keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
        ],
        verbose=0,
    )
    return lambda texts: model.predict(features(texts), verbose=0)


def bag_of_words_baseline(splits, config, epochs=20):
    """Test accuracy of `bag_of_words_classifier`."""
    probabilities = bag_of_words_classifier(splits, config, epochs)(splits.test.inputs)
    return float(np.mean(probabilities.argmax(-1) == splits.test.targets))


def naive_bayes_baseline(splits):
    """snownlp's own naive Bayes classifier retrained on `splits.train`: test accuracy."""
    from snownlp import sentiment

    classifier = sentiment.Sentiment()
    texts, labels = splits.train.inputs, splits.train.targets
    classifier.train(
        [t for t, y in zip(texts, labels) if y == 0],
        [t for t, y in zip(texts, labels) if y == 1],
    )
    predictions = [int(classifier.classify(t) > 0.5) for t in splits.test.inputs]
    return float(np.mean(np.array(predictions) == splits.test.targets))
