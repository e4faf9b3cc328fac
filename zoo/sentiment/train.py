"""Train and evaluate the sentiment models: `train_and_evaluate(config, workdir)`.

The task's other modules: `input_pipeline` (the data), `model` (the
network and its tokens), `serve` (the SavedModel and predictions; `export`
and `predict_rows` are the task contract's, `zoo/task.py`) and
`baselines` (what the models are measured against).
"""

import os

import keras
import numpy as np

from .. import distribute, training
from .input_pipeline import (
    LABEL_NAMES,
    LOADERS,
    evaluation_batches,
    load_data,
    training_batches,
    training_examples,
)
from .model import (
    BestMembers,
    MemberAccuracy,
    MembersCrossEntropy,
    build_attention_model,
    build_classifier,
    build_text_model,
    build_trainer,
    build_vectorizer,
    members_accuracy,
)
from .serve import LABELS_FILE, export, predict, predict_rows, saved_label_names

__all__ = ["evaluate", "export", "predict_rows", "train_and_evaluate"]


# The course notes' example review (positive: "so much fun I cannot stop").
NOTES_REVIEW = "不要把手放在switch上，因为一放上去就根本停不下来，太好玩了！"

EXAMPLES = {
    "sentiment_zh": NOTES_REVIEW,
    "sentiment_en": "A gorgeous, witty, seductive movie.",
}


def train_and_evaluate(config, workdir, strategy=None):
    """Trains on the train split (and `config.lexicon`'s words), keeps the
    best epoch on valid, reports test.

    Writes to `workdir`: `model.keras` (strings in, probabilities out),
    `best.keras` / `last.keras` checkpoints of the classifier, TensorBoard
    `logs/`, `training_curves.png`, `metrics.json` and the SavedModel
    `export/`. Returns the metrics. `strategy`: a `tf.distribute` strategy
    whose scope holds the model (None: the default).
    """
    training.prepare(config, workdir)
    splits = load_data(config)
    examples = training_examples(splits, config)  # and the lexicon's words
    vectorizer = build_vectorizer(config, splits.train.inputs)  # train split only
    with distribute.scope(strategy):
        classifier = build_classifier(
            config, vectorizer.vocabulary_size(), len(splits.label_names)
        )
        trainer = build_trainer(classifier)  # `classifier` for one network
        loss, metrics, then = "sparse_categorical_crossentropy", ["accuracy"], []
        if trainer is not classifier:
            # Each network reads its own batches, with its own loss and
            # accuracy; `accuracy` is their mean (the classifier's, their
            # average's, is measured after `fit`); each network keeps its
            # own best epoch.
            loss = MembersCrossEntropy()
            metrics = [
                keras.metrics.MeanMetricWrapper(members_accuracy, "accuracy"),
                *(MemberAccuracy(k) for k in range(config.members)),
            ]
            then = [BestMembers(classifier)]
        trainer.compile(
            optimizer=training.adam(config.learning_rate, config.clipnorm),
            loss=loss,
            metrics=metrics,
            # Lexicon words weigh less than reviews in the loss; accuracy
            # counts every example alike.
            weighted_metrics=[],
        )

    history, seconds = training.fit(
        trainer,
        training_batches(examples, config, vectorizer),
        evaluation_batches(splits.valid, config.batch_size, vectorizer, config.members),
        config,
        workdir,
        monitor="val_accuracy",
        mode="max",
        then=then,
    )
    # The classifier's scores (with several networks, their average's).
    scorer, served = trainer, {}
    if trainer is not classifier:
        with distribute.scope(strategy):
            # A model of the classifier's layers, so that the classifier
            # (saved in `model.keras`) keeps no compiled state.
            scorer = keras.Model(classifier.inputs, classifier.outputs)
            scorer.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        served["valid_accuracy"] = float(
            scorer.evaluate(
                evaluation_batches(splits.valid, config.batch_size, vectorizer),
                verbose=0,
                return_dict=True,
            )["accuracy"]
        )
    scores = scorer.evaluate(
        evaluation_batches(splits.test, config.batch_size, vectorizer),
        verbose=0,
        return_dict=True,
    )
    test_loss, test_accuracy = scores["loss"], scores["accuracy"]
    model = build_text_model(vectorizer, classifier)
    label_names = splits.label_names
    if config.dataset in LOADERS:
        example = EXAMPLES[config.name]
    else:  # one's own data: its first test text
        example = splits.test.inputs[0]
    probabilities = predict(model, [example])[0]
    attention_heatmap(
        model, example, os.path.join(workdir, "attention.png"), label_names
    )
    return training.finish(
        config,
        workdir,
        model,
        history,
        seconds,
        splits,
        export=lambda path: export(model, path, label_names),
        files={LABELS_FILE: label_names},
        metrics={
            "lexicon_words": len(examples[0]) - len(splits.train),
            # With several networks: the epoch (1-based) each one kept.
            **({"member_best_epochs": then[0].best_epochs} if then else {}),
            # With several networks: their average's validation accuracy.
            **served,
            "test_loss": float(test_loss),
            "test_accuracy": float(test_accuracy),
            "example": {
                "text": example,
                "label": label_names[int(np.argmax(probabilities))],
                "probability": float(np.max(probabilities)),
            },
        },
    )


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
