"""Training word2vec with `model.fit`: a tf.data pipeline, or NumPy off TensorFlow."""

import functools
import itertools
import queue
import threading
import time
import warnings

import keras
import numpy as np

from keras_seq.embeddings import pairs as pair_ops
from keras_seq.embeddings.skip_gram import CBOW, SkipGram, identity_loss
from keras_seq.embeddings.vocabulary import Vocabulary, _sentences
from keras_seq.embeddings.word_vectors import WordVectors
from keras_seq.utils import checks


def corpus_ids(corpus, vocabulary):
    """Flat word ids and sentence ids of `corpus`; unknown words are dropped.

    (Mapped to `<unk>` instead when the vocabulary has it.)
    """
    tokens, lengths = [], []
    for sentence in _sentences(corpus):
        tokens.extend(sentence)
        lengths.append(len(sentence))
    missing = 0 if vocabulary.unk else -1
    ids = np.fromiter(
        map(vocabulary._index.get, tokens, itertools.repeat(missing)),
        np.int32,
        len(tokens),
    )
    sentences = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    known = ids >= 0
    if not known.any():
        raise ValueError("No word of the corpus is in the vocabulary.")
    return ids[known], sentences[known]


def _check_pipeline(architecture, window, sample, epochs, batch_size):
    checks.check_choice("architecture", architecture, ("skipgram", "cbow"))
    checks.check_positive_int("window", window)
    checks.check_number("sample", sample, inclusive=True)
    checks.check_positive_int("epochs", epochs)
    checks.check_positive_int("batch_size", batch_size)


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
    shuffle=True,
):
    """A tf.data dataset of batches for `epochs` epochs.

    Every epoch draws its own subsampling and window sizes (stateless, from
    `seed` and the epoch), builds all the epoch's examples with tensor ops,
    shuffles them with one permutation and batches them. Elements are
    `((centres, contexts), dummy)` for skip-gram and `((contexts, centres),
    dummy)` for CBOW (contexts padded with -1).
    """
    _check_pipeline(architecture, window, sample, epochs, batch_size)
    import tensorflow as tf

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
        if not shuffle:
            return first, second
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


def numpy_batches(
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
    """`make_dataset`'s batches for backends without tf.data, in NumPy.

    Each epoch's examples come from `pairs.epoch_examples_numpy` with a
    Generator seeded by `(seed, epoch)`, built ahead in background threads;
    yields `((first, second), dummy)` NumPy batches, each epoch's last one
    smaller.
    """
    _check_pipeline(architecture, window, sample, epochs, batch_size)
    keep = pair_ops.keep_probabilities(counts, sample).astype(np.float32)

    def examples(epoch):
        rng = np.random.default_rng([seed, epoch])
        return pair_ops.epoch_examples_numpy(
            token_ids, sentence_ids, keep, architecture, window, rng
        )

    for first, second in _in_threads(examples, range(epochs)):
        for start in range(0, len(second), batch_size):
            end = start + batch_size
            yield (
                (first[start:end], second[start:end]),
                np.zeros(len(second[start:end]), np.float32),
            )


def jax_batches(
    token_ids,
    sentence_ids,
    counts,
    architecture="skipgram",
    window=5,
    sample=1e-3,
    epochs=5,
    batch_size=1024,
    steps=16,
    seed=0,
):
    """`numpy_batches`'s examples built on the JAX device, `steps` batches at once.

    From `pairs.epoch_examples_jax`, compiled.

    Yields `((first, second), dummy)` device arrays of shape `(steps,
    batch_size, ...)`, for the fused step on JAX; each epoch's last element
    is padded with examples whose target is -1.
    """
    _check_pipeline(architecture, window, sample, epochs, batch_size)
    checks.check_positive_int("steps", steps)
    import jax
    import jax.numpy as jnp

    keep = jnp.asarray(pair_ops.keep_probabilities(counts, sample), jnp.float32)
    token_ids = jnp.asarray(token_ids, jnp.int32)
    sentence_ids = jnp.asarray(sentence_ids, jnp.int32)
    chunk = steps * batch_size
    examples = _jax_padded_examples()

    def epoch_examples(epoch):
        return examples(
            token_ids,
            sentence_ids,
            keep,
            jax.random.fold_in(jax.random.key(seed), epoch),
            architecture=architecture,
            window=window,
            padding=chunk,
        )

    upcoming = epoch_examples(0)
    for epoch in range(epochs):
        first, second, count = upcoming
        if epoch + 1 < epochs:  # queued on the device ahead of this epoch's steps
            upcoming = epoch_examples(epoch + 1)
        for start in range(0, int(count), chunk):
            # A traced start: one compiled slice for every position.
            start = jnp.int32(start)
            inputs = (
                jax.lax.dynamic_slice_in_dim(first, start, chunk).reshape(
                    steps, batch_size, *first.shape[1:]
                ),
                jax.lax.dynamic_slice_in_dim(second, start, chunk).reshape(
                    steps, batch_size
                ),
            )
            yield inputs, jnp.zeros((steps, batch_size))


@functools.cache
def _jax_padded_examples():
    """`pairs.epoch_examples_jax` compiled, rows padded by `padding` at the end."""
    import jax
    import jax.numpy as jnp

    def examples(token_ids, sentence_ids, keep, key, architecture, window, padding):
        first, second, count = pair_ops.epoch_examples_jax(
            token_ids, sentence_ids, keep, architecture, window, key
        )
        rows = [(0, padding)] + [(0, 0)] * (first.ndim - 1)
        first = jnp.pad(first, rows, constant_values=0)
        return first, jnp.pad(second, (0, padding), constant_values=-1), count

    return jax.jit(examples, static_argnames=("architecture", "window", "padding"))


def _in_threads(function, items, workers=4):
    """`function(item)` for each item in order, computed ahead in threads."""
    items = list(items)
    results = [queue.Queue(1) for _ in items]

    def work(worker):
        for index in range(worker, len(items), workers):
            results[index].put(function(items[index]))

    for worker in range(min(workers, len(items))):
        threading.Thread(target=work, args=(worker,), daemon=True).start()
    for result in results:
        yield result.get()


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
        dim: As word2vec.
        window: As word2vec.
        negative: As word2vec.
        sample: As word2vec.
        min_count: As word2vec.
        epochs: As word2vec.
        batch_size: Examples per step. With the CPU kernel
            (`keras_seq.embeddings.kernels`, TensorFlow on a CPU) 32768: its
            updates are per example, the batch only sets how often the rate
            decays. Otherwise 4096 (skip-gram) or 2048 (CBOW): measured on
            PTB, CBOW reaches gensim's quality only with word2vec's rate
            0.05, which diverges with batches of 4096.
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
        steps_per_execution: Steps per call; 16 (default). On TensorFlow
            `Model.compile`'s (1.35x the words/s of 1 on PTB, CPU). On JAX
            the NumPy pipeline (`numpy_batches`) hands the model this many
            batches at once and its fused step scans over them on the device.

    Returns:
        `(word_vectors, model, history)`; `history.history["words_per_second"]`.
    """
    _check_pipeline(
        architecture, window, sample, epochs, 1 if batch_size is None else batch_size
    )
    if learning_rate is not None:
        checks.check_number("learning_rate", learning_rate)
    if vocabulary is None:
        vocabulary = Vocabulary.build(corpus, min_count=min_count)
    token_ids, sentence_ids = corpus_ids(corpus, vocabulary)
    _check_examples(token_ids, sentence_ids, vocabulary, sample, min_count)
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
    kernel = loss == "negative_sampling" and model._uses_kernel()
    if batch_size is None:
        if kernel:
            batch_size = 32768
        else:
            batch_size = 4096 if architecture == "skipgram" else 2048
    if learning_rate is None:
        learning_rate = 0.025 if architecture == "skipgram" else 0.05
    # Steps for the learning-rate decay: expected examples of an epoch.
    keep = pair_ops.keep_probabilities(vocabulary.counts, sample)[token_ids].mean()
    per_token = (window + 1) if architecture == "skipgram" else 1.0
    steps = max(1, int(epochs * len(token_ids) * keep * per_token / batch_size))
    schedule = keras.optimizers.schedules.PolynomialDecay(
        learning_rate * batch_size, steps, learning_rate * batch_size * 1e-4
    )
    on_tensorflow = keras.backend.backend() == "tensorflow"
    pipeline_args = (
        token_ids,
        sentence_ids,
        vocabulary.counts,
        architecture,
        window,
        sample,
        epochs,
        batch_size,
    )
    model.rate_batch_size = batch_size
    model.compile(
        optimizer=keras.optimizers.SGD(schedule),
        loss=identity_loss,
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution if on_tensorflow else 1,
    )
    if on_tensorflow:
        # The kernel's updates are sequential, as word2vec's: examples in
        # corpus order, as word2vec.c and gensim take them.
        dataset = make_dataset(*pipeline_args, seed, shuffle=not kernel)
    else:
        if model._uses_fused_step() and keras.backend.backend() == "jax":
            dataset = jax_batches(*pipeline_args, steps_per_execution, seed)
        else:
            dataset = numpy_batches(*pipeline_args, seed)
        dataset = _not_empty(dataset, sample)
    rate = WordsPerSecond(len(token_ids) * epochs)  # all epochs in one `fit` epoch
    with warnings.catch_warnings():
        # The dataset's length is unknown up front: Keras warns at its end.
        warnings.filterwarnings("ignore", message=".*ran out of data.*")
        history = model.fit(
            dataset, epochs=1, verbose=verbose, callbacks=[rate], shuffle=False
        )
    history.history["words_per_second"] = rate.rates
    _check_trained(model, history, learning_rate, batch_size, sample)
    return WordVectors.from_model(model, vocabulary), model, history


def _check_examples(token_ids, sentence_ids, vocabulary, sample, min_count):
    """Refuses, before training, a corpus that gives (almost) no examples."""
    in_pairs = np.bincount(sentence_ids) >= 2
    if not in_pairs.any():
        raise ValueError(
            "The corpus gives no training examples: no sentence has two or more "
            f"words in the vocabulary (of {len(vocabulary)} words with "
            f"`min_count={min_count}`). Pass longer sentences or a lower "
            "`min_count`."
        )
    keep = pair_ops.keep_probabilities(vocabulary.counts, sample)[token_ids]
    kept = float(keep[in_pairs[sentence_ids]].sum())
    if kept < 2.0:
        raise ValueError(
            f"Frequent-word subsampling (`sample={sample:g}`) keeps about "
            f"{kept:.1f} of the corpus's {len(token_ids)} tokens in sentences of "
            "two or more words: too few to train on. For a corpus this small "
            "pass `sample=0` (no subsampling) or a larger `sample`."
        )


def _no_step(sample):
    return (
        f"Training ran no step: subsampling (`sample={sample:g}`) dropped every "
        "example of this small corpus. Pass `sample=0` or a larger corpus."
    )


def _not_empty(batches, sample):
    """`batches` (a generator) with its first batch drawn: the error of
    `_no_step` where there is none, not Keras's about an empty generator."""
    batches = iter(batches)
    try:
        first = next(batches)
    except StopIteration:
        raise ValueError(_no_step(sample)) from None

    def generator():  # Keras takes generators, not other iterators
        yield first
        yield from batches

    return generator()


def _check_trained(model, history, learning_rate, batch_size, sample):
    """A run that saw no batch, or diverged, is an error naming what to change."""
    losses = history.history.get("loss")
    if not losses:
        raise ValueError(_no_step(sample))
    finite = np.isfinite(losses).all() and all(
        np.isfinite(np.asarray(keras.ops.convert_to_numpy(w))).all()
        for w in (model.embeddings, model.context_embeddings)
    )
    if not finite:
        raise ValueError(
            f"Training diverged (loss {losses[-1]:.3g}, non-finite vectors) with "
            f"`learning_rate={learning_rate:g}` per example and "
            f"`batch_size={batch_size}`: pass a smaller `learning_rate` (word2vec "
            "uses 0.025 for skip-gram, 0.05 for CBOW)."
        )
