"""Do words (a segmenter's) or character trigrams lift `sentiment_zh`?

Trains the `sentiment_zh` default (the lexicon included, the seed-0 split)
on three kinds of tokens, one network a seed each:

- `characters`: the default, each character with the bigram it starts;
- `trigrams`: each character with the bigram and the trigram it starts
  (`--set ngrams=3`: "停不下", "不下来", still servable with core ops);
- `words`: jieba's words (`pip install jieba`, its default dictionary and
  HMM), each with the word bigram it starts, the first 128 words (all of
  more than 95 % of the training reviews). Every text (reviews, lexicon
  words, the dev set) is segmented before the vectorizer, so a model of
  these tokens cannot be exported for raw strings with core ops alone.

Each is trained as the zoo trains it (Adam 3e-3, clipping 1.0, batch 64, at
most 6 epochs, stopped after 2 without a better validation accuracy) and
scored after every epoch on the validation and test splits and the dev set
of hand-written reviews (`data/sentiment_zh_dev.tsv`); the line of its best
validation epoch is what counts. The probe
(`data/sentiment_zh_probe.tsv`) and the course example are scored at that
epoch for the record only, never to choose.

    python bench/studies/sentiment_words.py --seeds 0 1   # ~40 min on 2 CPU cores
    python bench/studies/sentiment_words.py --tokens words --seeds 0
"""

import argparse
import dataclasses
import os
import sys

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sentiment_probe import DEV, PROBE, read_probe

from zoo.sentiment import configs
from zoo.sentiment import model as sentiment_model
from zoo.sentiment.input_pipeline import (
    load_data,
    training_batches,
    training_examples,
)
from zoo.sentiment.train import NOTES_REVIEW, compiled_classifier

TOKENS = {
    "characters": {},
    "trigrams": {"ngrams": 3},
    "words": {"split": "whitespace", "max_length": 128},
}


def segmenter():
    """Text -> its jieba words joined by single spaces (whitespace dropped)."""
    try:
        import jieba
    except ImportError:
        sys.exit("--tokens words needs jieba: pip install jieba")
    jieba.setLogLevel(60)
    jieba.initialize()

    def segment(text):
        return " ".join(word for word in jieba.lcut(text) if word.strip())

    return segment


def train(config, splits, examples, sets, seed):
    """Trains one network; returns the scores of its best validation epoch
    (accuracies, correct dev and probe reviews, the course example's
    P(positive))."""
    vectorizer = sentiment_model.build_vectorizer(config, splits.train.inputs)
    ids = {
        name: (vectorizer(tf.constant(list(texts))), np.asarray(labels))
        for name, (texts, labels) in sets.items()
    }
    run = dataclasses.replace(config, seed=seed)
    keras.utils.set_random_seed(seed)
    model = compiled_classifier(run, vectorizer.vocabulary_size())
    batches = training_batches(examples, run, vectorizer)
    best, waited = None, 0
    for epoch in range(1, config.epochs + 1):
        model.fit(batches, epochs=1, verbose=0)
        positive = {
            name: model.predict(x, verbose=0, batch_size=256)[:, 1]
            for name, (x, _) in ids.items()
        }
        correct = {
            name: int(np.sum((positive[name] > 0.5) == labels))
            for name, (_, labels) in ids.items()
            if name != "course"
        }
        score = {
            "epoch": epoch,
            "valid": correct["valid"] / len(ids["valid"][1]),
            "test": correct["test"] / len(ids["test"][1]),
            "dev": correct["dev"],
            "probe": correct["probe"],
            "course": float(positive["course"][0]),
        }
        print(
            f"  epoch {epoch}: valid {score['valid']:.4f} test {score['test']:.4f} "
            f"dev {score['dev']}",
            flush=True,
        )
        if best is None or score["valid"] > best["valid"]:
            best, waited = score, 0
        else:
            waited += 1
            if waited >= config.patience:
                break
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument(
        "--tokens", nargs="+", choices=sorted(TOKENS), default=list(TOKENS)
    )
    args = parser.parse_args()
    for tokens in args.tokens:
        config = dataclasses.replace(configs.ZH, **TOKENS[tokens])
        splits = load_data(config)
        texts, labels, weights = training_examples(splits, config)
        sets = {
            "valid": (splits.valid.inputs, splits.valid.targets),
            "test": (splits.test.inputs, splits.test.targets),
            "dev": read_probe(DEV),
            "probe": read_probe(PROBE),
            "course": ([NOTES_REVIEW], [1]),
        }
        if tokens == "words":
            segment = segmenter()
            texts = [segment(text) for text in texts]
            splits = dataclasses.replace(
                splits,
                train=dataclasses.replace(
                    splits.train, inputs=texts[: len(splits.train)]
                ),
            )
            sets = {
                name: ([segment(text) for text in inputs], labels_)
                for name, (inputs, labels_) in sets.items()
            }
        for seed in args.seeds:
            print(f"{tokens}, seed {seed}:", flush=True)
            best = train(config, splits, (texts, labels, weights), sets, seed)
            print(
                f"{tokens}, seed {seed}, best epoch {best['epoch']}: "
                f"valid {best['valid']:.4f} test {best['test']:.4f} "
                f"dev {best['dev']} probe {best['probe']} "
                f"course P(positive) {best['course']:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
