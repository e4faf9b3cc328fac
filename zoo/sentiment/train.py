"""Train and evaluate the sentiment models: `train_and_evaluate(config, workdir)`.

The task's other modules: `input_pipeline` (the data), `model` (the
network and its tokens), `serve` (the SavedModel and predictions; `export`
and `predict_rows` are the task contract's, `zoo/task.py`) and
`baselines` (what the models are measured against).
"""

import dataclasses
import json
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
    build_attention_model,
    build_classifier,
    build_text_model,
    build_vectorizer,
    combine,
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

    With `config.members` = N > 1, N networks are trained one after
    another, each as a run of its own (`member_config`) in
    `workdir/member<k>` (its checkpoints, logs and backup), and the
    classifier averages them (`model.combine`). A run started again skips
    the networks already trained (`member<k>/network.json`).
    """
    training.prepare(config, workdir)
    splits = load_data(config)
    examples = training_examples(splits, config)  # and the lexicon's words
    vectorizer = build_vectorizer(config, splits.train.inputs)  # train split only
    num_classes = len(splits.label_names)
    valid = evaluation_batches(splits.valid, config.batch_size, vectorizer)
    networks, histories, seconds, members = [], [], 0.0, []
    for k in range(config.members):
        member = member_config(config, k)
        where = workdir if config.members == 1 else os.path.join(workdir, f"member{k}")
        keras.utils.set_random_seed(member.seed)
        with distribute.scope(strategy):
            network = compiled_classifier(
                member, vectorizer.vocabulary_size(), num_classes
            )
        record = os.path.join(where, "network.json")
        done = trained_network(record, member)
        if config.members > 1 and done:  # trained before, with these settings
            network.load_weights(os.path.join(where, "network.weights.h5"))
            history = keras.callbacks.History()
            history.history, history.epoch = done["history"], []
            history.set_model(network)
            seconds_k = 0.0
        else:
            history, seconds_k = training.fit(
                network,
                training_batches(examples, member, vectorizer),
                valid,
                member,
                where,
                monitor="val_accuracy",
                mode="max",
            )
        networks.append(network)
        histories.append(history)
        seconds += seconds_k
        if config.members > 1:
            scores = network.evaluate(valid, verbose=0, return_dict=True)
            members.append(
                {
                    "config": dataclasses.asdict(member),
                    "seed": member.seed,
                    "epochs_run": len(history.history["loss"]),
                    "valid_accuracy": float(scores["accuracy"]),
                    "history": {
                        key: [float(v) for v in values]
                        for key, values in history.history.items()
                    },
                }
            )
            # The network's weights and figures: a run started again skips it.
            network.save_weights(os.path.join(where, "network.weights.h5"))
            with open(record, "w", encoding="utf-8") as f:
                json.dump(members[-1], f, indent=1)
    if config.members == 1:
        classifier, scorer, history = networks[0], networks[0], histories[0]
    else:
        with distribute.scope(strategy):
            classifier = combine(config, networks)
            # A model of the classifier's layers to score it, so that the
            # classifier (saved in `model.keras`) keeps no compiled state.
            scorer = keras.Model(classifier.inputs, classifier.outputs)
            scorer.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = joined_history(histories, classifier)
    served = {}
    test = evaluation_batches(splits.test, config.batch_size, vectorizer)
    if config.members > 1:
        served["valid_accuracy"] = float(
            scorer.evaluate(valid, verbose=0, return_dict=True)["accuracy"]
        )
        for network, member in zip(networks, members):
            member["test_accuracy"] = float(
                network.evaluate(test, verbose=0, return_dict=True)["accuracy"]
            )
        served["members"] = members
    scores = scorer.evaluate(test, verbose=0, return_dict=True)
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
            # With several networks: their average's validation accuracy and
            # each network's figures (its seed, epochs, accuracies, history).
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


def compiled_classifier(config, vocabulary_size, num_classes=2):
    """`build_classifier`, compiled as the zoo trains it: Adam with
    `config`'s rate and clipping, cross-entropy, accuracy."""
    network = build_classifier(config, vocabulary_size, num_classes)
    network.compile(
        optimizer=training.adam(config.learning_rate, config.clipnorm),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        # Lexicon words weigh less than reviews in the loss; accuracy counts
        # every example alike.
        weighted_metrics=[],
    )
    return network


def member_config(config, k):
    """The config of the `k`-th of `config.members` networks: one network,
    trained with seed `config.seed * members + k` (so the runs of seeds 0,
    1, ... share no network; with one, its seed is `config.seed`)."""
    return dataclasses.replace(config, members=1, seed=config.seed * config.members + k)


def trained_network(record, config):
    """What `record` (a `member<k>/network.json`) says of a network trained
    with `config`, or None where there is none or it had other settings."""
    if not os.path.exists(record):
        return None
    with open(record, encoding="utf-8") as f:
        done = json.load(f)
    same = done.get("config") == json.loads(json.dumps(dataclasses.asdict(config)))
    return done if same else None


def joined_history(histories, model):
    """One `History` of the networks' epochs one after another (what
    `metrics.json`'s `history` and `training_curves.png` show for several)."""
    joined = keras.callbacks.History()
    joined.set_model(model)
    keys = histories[0].history
    joined.history = {
        key: [v for history in histories for v in history.history[key]] for key in keys
    }
    joined.epoch = [e for history in histories for e in history.epoch]
    return joined


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
