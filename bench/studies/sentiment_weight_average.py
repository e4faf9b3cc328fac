"""Does a moving average of the weights lift `sentiment_zh`?

Trains the `sentiment_zh` default (the lexicon included) on the seed-0
split for `--epochs` epochs and, after each, scores the network and an
exponential moving average of its weights over the training steps
(`--momentum`, debiased as Adam debiases its moments) on the validation
and test splits and the dev set of hand-written reviews
(`data/sentiment_zh_dev.tsv`; the probe is never read). Pick the epoch and
the momentum by validation accuracy; the test column is for the record.
`--embedding-dropout R` adds `SpatialDropout1D(R)` after the embedding;
`--set FIELD=VALUE` changes a config field (`learning_rate=0.001`).

    python bench/studies/sentiment_weight_average.py --seeds 0 1   # ~20 min on 2 CPU cores
    python bench/studies/sentiment_weight_average.py --embedding-dropout 0.25
"""

import argparse
import dataclasses
import os
import sys

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sentiment_probe import DEV, read_probe

from zoo.sentiment import configs
from zoo.sentiment import model as sentiment_model
from zoo.sentiment.input_pipeline import (
    load_data,
    training_batches,
    training_examples,
)
from zoo.sentiment.train import compiled_classifier


class WeightAverage(keras.callbacks.Callback):
    """An exponential moving average of the model's weights, updated after
    every training step; `swap()` exchanges it with the weights."""

    def __init__(self, momentum):
        super().__init__()
        self.momentum = momentum
        self.steps = 0
        self.average = None

    def on_train_batch_end(self, batch, logs=None):
        if self.average is None:
            self.average = [
                tf.Variable(tf.zeros_like(v.value), trainable=False)
                for v in self.model.trainable_weights
            ]
        self.steps += 1
        for average, weight in zip(self.average, self.model.trainable_weights):
            average.assign(self.momentum * average + (1 - self.momentum) * weight.value)

    def swap(self):
        debias = 1 - self.momentum**self.steps
        for average, weight in zip(self.average, self.model.trainable_weights):
            trained = tf.identity(weight.value)
            weight.assign(average / debias)
            average.assign(trained * debias)


def with_embedding_dropout(rate):
    """`build_classifier` with `SpatialDropout1D(rate)` after the embedding."""
    embedding = sentiment_model.NgramEmbedding

    def build(*args, **kwargs):
        layer = embedding(*args, **kwargs)
        dropout = keras.layers.SpatialDropout1D(rate)
        return lambda ids: dropout(layer(ids))

    sentiment_model.NgramEmbedding = build


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--momentum", type=float, nargs="+", default=[0.99, 0.998])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--embedding-dropout", type=float, default=0.0)
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args()
    config = configs.ZH
    for item in args.set:
        key, value = item.split("=", 1)
        config = dataclasses.replace(config, **{key: type(getattr(config, key))(value)})
    if args.embedding_dropout:
        with_embedding_dropout(args.embedding_dropout)
    splits = load_data(config)
    examples = training_examples(splits, config)
    vectorizer = sentiment_model.build_vectorizer(config, splits.train.inputs)
    dev_texts, dev_labels = read_probe(DEV)
    sets = {
        "valid": (splits.valid.inputs, splits.valid.targets),
        "test": (splits.test.inputs, splits.test.targets),
        "dev": (dev_texts, dev_labels),
    }
    sets = {
        name: (vectorizer(tf.constant(list(texts))), np.asarray(labels))
        for name, (texts, labels) in sets.items()
    }

    def scores(model):
        correct = {}
        for name, (ids, labels) in sets.items():
            predicted = model.predict(ids, verbose=0, batch_size=256).argmax(-1)
            correct[name] = np.mean(predicted == labels)
        return (
            f"valid {correct['valid']:.4f} test {correct['test']:.4f} "
            f"dev {round(correct['dev'] * len(dev_labels))}"
        )

    for seed in args.seeds:
        run = dataclasses.replace(config, seed=seed)
        keras.utils.set_random_seed(seed)
        model = compiled_classifier(run, vectorizer.vocabulary_size())
        averages = [WeightAverage(momentum) for momentum in args.momentum]
        batches = training_batches(examples, run, vectorizer)
        for epoch in range(1, args.epochs + 1):
            model.fit(batches, epochs=1, callbacks=averages, verbose=0)
            line = f"seed {seed} epoch {epoch}: weights: {scores(model)}"
            for average in averages:
                average.swap()
                line += f" | average {average.momentum}: {scores(model)}"
                average.swap()
            print(line, flush=True)


if __name__ == "__main__":
    main()
