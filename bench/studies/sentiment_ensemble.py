"""Do seed ensembles or pretrained character vectors lift `sentiment_zh`?

Trains the `sentiment_zh` default classifier (each character with the
bigram it starts, BiGRU, attention pooling) with `--seeds` different seeds
on the same seed-0 split and prints each one's validation and test
accuracy, then those of the average of the first k members' probabilities.
Then the same averages mixed with a multi-hot (characters + bigrams)
logistic regression. `--model sentiment_en` does the same for the English
snippets (words and word bigrams).

`--pretrained` instead starts each member's embedding from skip-gram
vectors (keras_seq.embeddings.train, 5 epochs) of the characters and
character bigrams of the training reviews and all of People's Daily, rows
rescaled to the embedding's initial spread.

    python bench/studies/sentiment_ensemble.py --seeds 5       # ~8 min on 2 CPU cores
    python bench/studies/sentiment_ensemble.py --seeds 5 --model sentiment_en
    python bench/studies/sentiment_ensemble.py --seeds 2 --pretrained
"""

import argparse
import dataclasses
import itertools

import keras
import numpy as np
import tensorflow as tf

from keras_seq import datasets, embeddings
from zoo.sentiment import configs
from zoo.sentiment.baselines import bag_of_words_classifier
from zoo.sentiment.input_pipeline import load_data
from zoo.sentiment.model import build_classifier, build_vectorizer


def pretrained_vectors(config, train_texts):
    """Skip-gram vectors of characters and bigrams ("a b", as the vectorizer)."""
    news = datasets.load_peoples_daily_pos()
    texts = list(train_texts) + [
        "".join(words)
        for split in (news.train, news.valid, news.test)
        for words in split.inputs
    ]
    corpus = []
    for text in texts:
        chars = [c for c in text if not c.isspace()]
        corpus.append(chars)
        corpus.append([a + " " + b for a, b in itertools.pairwise(chars)])
    vectors, _, _ = embeddings.train(
        corpus, dim=config.embedding_dim, window=5, epochs=5, min_count=3, verbose=0
    )
    return vectors


def start_from(model, vocabulary, vectors):
    embedding = model.get_layer("embedding").embedding  # tokens' and n-grams' table
    table = embedding.get_weights()[0]
    spread = table.std()
    for i, token in enumerate(vocabulary):
        if token in vectors:
            vector = vectors[token]
            table[i] = vector / (vector.std() + 1e-8) * spread
    embedding.set_weights([table])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pretrained", action="store_true")
    parser.add_argument(
        "--model", choices=["sentiment_zh", "sentiment_en"], default="sentiment_zh"
    )
    args = parser.parse_args()
    config = {"sentiment_zh": configs.ZH, "sentiment_en": configs.EN}[args.model]
    if args.pretrained and args.model != "sentiment_zh":
        parser.error("--pretrained has Chinese character vectors: sentiment_zh only")
    splits = load_data(config)
    vectorizer = build_vectorizer(config, splits.train.inputs)
    vocabulary = vectorizer.get_vocabulary()
    vectors = (
        pretrained_vectors(config, splits.train.inputs) if args.pretrained else None
    )
    x = {
        name: vectorizer(tf.constant(split.inputs)).numpy()
        for name, split in (
            ("train", splits.train),
            ("valid", splits.valid),
            ("test", splits.test),
        )
    }
    targets = {"valid": splits.valid.targets, "test": splits.test.targets}

    def accuracy(probabilities, name):
        return float(np.mean(probabilities.argmax(-1) == targets[name]))

    members = {"valid": [], "test": []}
    for seed in range(args.seeds):
        keras.utils.set_random_seed(seed)
        model = build_classifier(
            dataclasses.replace(config, seed=seed), len(vocabulary)
        )
        if vectors is not None:
            start_from(model, vocabulary, vectors)
        model.compile(
            optimizer=keras.optimizers.Adam(
                config.learning_rate, global_clipnorm=config.clipnorm
            ),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(
            x["train"],
            splits.train.targets,
            batch_size=config.batch_size,
            epochs=4,
            validation_data=(x["valid"], targets["valid"]),
            callbacks=[
                keras.callbacks.EarlyStopping(
                    "val_accuracy",
                    patience=config.patience,
                    mode="max",
                    restore_best_weights=True,
                )
            ],
            verbose=0,
        )
        for name, probabilities in members.items():
            probabilities.append(model.predict(x[name], verbose=0))
        mean = {name: np.mean(members[name], axis=0) for name in members}
        print(
            f"seed {seed}: valid {accuracy(members['valid'][-1], 'valid'):.4f} "
            f"test {accuracy(members['test'][-1], 'test'):.4f} | average of "
            f"{seed + 1}: valid {accuracy(mean['valid'], 'valid'):.4f} "
            f"test {accuracy(mean['test'], 'test'):.4f}",
            flush=True,
        )
    classify = bag_of_words_classifier(splits, config)
    linear = {
        name: classify(split.inputs)
        for name, split in (("valid", splits.valid), ("test", splits.test))
    }
    print(
        f"logistic regression: valid {accuracy(linear['valid'], 'valid'):.4f} "
        f"test {accuracy(linear['test'], 'test'):.4f}"
    )
    for k in sorted({1, min(3, args.seeds), args.seeds}):
        for weight in (0.25, 0.5):
            mixed = {
                name: (1 - weight) * np.mean(members[name][:k], axis=0)
                + weight * linear[name]
                for name in members
            }
            print(
                f"average of {k} x {1 - weight:g} + logistic regression x {weight:g}: "
                f"valid {accuracy(mixed['valid'], 'valid'):.4f} "
                f"test {accuracy(mixed['test'], 'test'):.4f}"
            )


if __name__ == "__main__":
    main()
