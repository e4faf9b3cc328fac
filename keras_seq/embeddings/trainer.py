"""Training word2vec with `model.fit` on a tf.data pipeline."""

import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_seq.embeddings import pairs as pair_ops
from keras_seq.embeddings.skip_gram import CBOW, SkipGram, identity_loss
from keras_seq.embeddings.vocabulary import Vocabulary, _sentences
from keras_seq.embeddings.word_vectors import WordVectors
from keras_seq.utils import checks


def corpus_ids(corpus, vocabulary):
    """Flat word ids and sentence ids of `corpus`; unknown words are dropped."""
    tokens, sentences = [], []
    for number, sentence in enumerate(_sentences(corpus)):
        ids = vocabulary.ids(sentence)
        tokens.extend(ids)
        sentences.extend([number] * len(ids))
    if not tokens:
        raise ValueError("No word of the corpus is in the vocabulary.")
    return np.asarray(tokens, np.int32), np.asarray(sentences, np.int32)


def make_dataset(
    token_ids,
    sentence_ids,
    counts,
    architecture="skipgram",
    window=5,
    sample=1e-3,
    epochs=5,
    batch_size=1024,
    seed=0,
):
    """A tf.data dataset of batches for `epochs` epochs.

    Every epoch draws its own subsampling and window sizes (stateless, from
    `seed` and the epoch), builds all the epoch's examples with tensor ops,
    shuffles them with one permutation and batches them. Elements are
    `((centres, contexts), dummy)` for skip-gram and `((contexts, centres),
    dummy)` for CBOW (contexts padded with -1).
    """
    keep = pair_ops.keep_probabilities(counts, sample).astype(np.float32)
    token_ids = tf.constant(token_ids)
    sentence_ids = tf.constant(sentence_ids)

    def epoch_examples(epoch):
        epoch = tf.cast(epoch, tf.int32)
        kept, kept_sentences = pair_ops.subsample(
            token_ids, sentence_ids, keep, seed=tf.stack([seed, 3 * epoch])
        )
        window_seed = tf.stack([seed, 3 * epoch + 1])
        if architecture == "skipgram":
            first, second = pair_ops.skipgram_pairs(
                kept, kept_sentences, window, seed=window_seed
            )
        else:
            first, second = pair_ops.cbow_examples(
                kept, kept_sentences, window, -1, seed=window_seed
            )
        order = tf.random.experimental.stateless_shuffle(
            tf.range(tf.shape(second)[0]), seed=tf.stack([seed, 3 * epoch + 2])
        )
        return tf.gather(first, order), tf.gather(second, order)

    def batches(epoch):
        # Sliced a batch at a time: `from_tensor_slices(...).batch()` would
        # handle millions of single examples per epoch.
        first, second = epoch_examples(epoch)
        full = tf.shape(second)[0] // batch_size * batch_size
        whole = tf.data.Dataset.from_tensor_slices(
            (
                tf.reshape(first[:full], (-1, batch_size, *first.shape[1:])),
                tf.reshape(second[:full], (-1, batch_size)),
            )
        )
        rest = tf.data.Dataset.from_tensors((first[full:], second[full:]))
        return whole.concatenate(rest.filter(lambda a, b: tf.shape(b)[0] > 0))

    dataset = tf.data.Dataset.range(epochs).flat_map(batches)
    dataset = dataset.map(lambda a, b: ((a, b), tf.zeros_like(b, tf.float32)))
    return dataset.prefetch(tf.data.AUTOTUNE)


class WordsPerSecond(keras.callbacks.Callback):
    """Logs `words_per_second` (corpus words, before subsampling) each epoch."""

    def __init__(self, words_per_epoch):
        super().__init__()
        self.words_per_epoch = words_per_epoch
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        rate = self.words_per_epoch / (time.perf_counter() - self._start)
        self.rates.append(rate)
        if logs is not None:
            logs["words_per_second"] = rate


def train(
    corpus,
    architecture="skipgram",
    vocabulary=None,
    dim=100,
    window=5,
    negative=5,
    sample=1e-3,
    min_count=5,
    epochs=5,
    batch_size=None,
    learning_rate=None,
    loss="negative_sampling",
    cbow_mean=True,
    seed=0,
    verbose=1,
    jit_compile="auto",
    steps_per_execution=16,
):
    """Trains skip-gram or CBOW word2vec on `corpus`; returns `WordVectors`.

    Args:
        corpus: Token lists, strings, or a text file (one sentence a line).
        architecture: `"skipgram"` or `"cbow"`.
        vocabulary: A `Vocabulary`, or None to build one with `min_count`.
        dim, window, negative, sample, min_count, epochs: As word2vec.
        batch_size: Examples per step. Default 4096 (skip-gram) or 2048
            (CBOW): measured on PTB, CBOW reaches gensim's quality only with
            word2vec's rate 0.05, which diverges with batches of 4096.
        learning_rate: Start of the linear decay to 1e-4 of it (word2vec's
            schedule). Default 0.025 (skip-gram) or 0.05 (CBOW), as
            word2vec.c. Per example: the optimizer's rate is this times
            `batch_size`.
        loss: `"negative_sampling"` or `"softmax"`.
        cbow_mean: CBOW hidden vector = mean (True) or sum of the context.
        seed: Seed of every random draw.
        verbose: Keras progress-bar mode.
        jit_compile: For `Model.compile`. XLA was measured slower on a CPU
            (its scatter updates of embedding rows).
        steps_per_execution: For `Model.compile`; 16 (default) runs 16 steps
            per call (1.35x the words/s of 1 on PTB).

    Returns:
        `(word_vectors, model, history)`; `history.history["words_per_second"]`.
    """
    checks.check_choice("architecture", architecture, ("skipgram", "cbow"))
    if vocabulary is None:
        vocabulary = Vocabulary.build(corpus, min_count=min_count)
    token_ids, sentence_ids = corpus_ids(corpus, vocabulary)
    if batch_size is None:
        batch_size = 4096 if architecture == "skipgram" else 2048
    if learning_rate is None:
        learning_rate = 0.025 if architecture == "skipgram" else 0.05
    dataset = make_dataset(
        token_ids,
        sentence_ids,
        vocabulary.counts,
        architecture,
        window,
        sample,
        epochs,
        batch_size,
        seed,
    )
    # Steps for the learning-rate decay: expected examples of an epoch.
    keep = pair_ops.keep_probabilities(vocabulary.counts, sample)[token_ids].mean()
    per_token = (window + 1) if architecture == "skipgram" else 1.0
    steps = max(1, int(epochs * len(token_ids) * keep * per_token / batch_size))
    schedule = keras.optimizers.schedules.PolynomialDecay(
        learning_rate * batch_size, steps, learning_rate * batch_size * 1e-4
    )
    keras.utils.set_random_seed(seed)
    options = {
        "dim": dim,
        "negative": negative,
        "unigram_log_probs": pair_ops.unigram_table(vocabulary.counts).tolist(),
        "loss": loss,
        "seed": seed,
    }
    if architecture == "skipgram":
        model = SkipGram(len(vocabulary), **options)
    else:
        model = CBOW(len(vocabulary), cbow_mean=cbow_mean, **options)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule),
        loss=identity_loss,
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    rate = WordsPerSecond(len(token_ids) * epochs)  # all epochs in one `fit` epoch
    with warnings.catch_warnings():
        # The dataset's length is unknown up front: Keras warns at its end.
        warnings.filterwarnings("ignore", message=".*ran out of data.*")
        history = model.fit(
            dataset, epochs=1, verbose=verbose, callbacks=[rate], shuffle=False
        )
    history.history["words_per_second"] = rate.rates
    return WordVectors.from_model(model, vocabulary), model, history
