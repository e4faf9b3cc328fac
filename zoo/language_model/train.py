"""Train and evaluate the PTB language model: `train_and_evaluate(config, workdir)`."""

import collections
import math
import os
import time

import keras
import numpy as np

from keras_seq.datasets import load_penn_treebank, load_text
from keras_seq.export import export_text_generator
from keras_seq.optimizers import with_exact_clipping

from .. import training
from .model import build_language_model, continue_prompts

END = "<eos>"
UNKNOWN = "<unk>"
# Prompt words read (the last ones); the exported model truncates alike.
MAX_PROMPT_WORDS = 100


def load_data(config):
    """The sentences of `config.dataset`: PTB, or one's own text lower-cased."""
    if config.dataset == "ptb":
        return load_penn_treebank()
    if not os.path.exists(config.dataset):
        raise ValueError(
            "Received an invalid value for `dataset`, expected 'ptb' or the path "
            "of a text file (or of a directory of train.txt, valid.txt and "
            f"test.txt), got {config.dataset!r} (no such file or directory)."
        )
    splits = load_text(config.dataset)
    for split in splits:
        split.inputs = [sentence.lower() for sentence in split.inputs]
    return splits


def vocabulary_of(sentences, max_tokens=0):
    """`<eos>`, then the training text's words by decreasing count (ties:
    alphabetical): the `max_tokens` most frequent (0: all), `<unk>` among
    them, appended if the text has none; the words left out read as `<unk>`."""
    counts = collections.Counter(w for s in sentences for w in s.split())
    words = sorted(counts, key=lambda w: (-counts[w], w))
    if max_tokens:
        words = words[:max_tokens]
    if UNKNOWN not in words:
        if max_tokens and len(words) == max_tokens:
            words = words[:-1]
        words.append(UNKNOWN)
    return [END, *words]


def stream(sentences, index):
    """The corpus as one id stream, `<eos>` after each sentence (unknown words: `<unk>`)."""
    unknown = index.get(UNKNOWN, 0)
    ids = []
    for sentence in sentences:
        ids.extend(index.get(w, unknown) for w in sentence.split())
        ids.append(index[END])
    return np.asarray(ids, "int32")


def windows(ids, batch_size, bptt):
    """`batch_size` parallel streams cut into consecutive `bptt`-step windows.

    Returns `(inputs, targets)`, `(windows, batch_size, bptt)` each: window
    `i + 1` of row `b` continues window `i` of row `b`, so a stateful model
    carries its state across them; targets are the inputs shifted by one.
    """
    length = len(ids) // batch_size
    if length < bptt + 1:
        raise ValueError(
            f"The text has {len(ids)} words: too few for {batch_size} streams "
            f"of {bptt + 1} words."
        )
    data = ids[: length * batch_size].reshape(batch_size, length)
    count = (length - 1) // bptt
    inputs = np.stack([data[:, i * bptt : (i + 1) * bptt] for i in range(count)])
    targets = np.stack(
        [data[:, i * bptt + 1 : (i + 1) * bptt + 1] for i in range(count)]
    )
    return inputs, targets


class ResetStates(keras.callbacks.Callback):
    """Zero states at every epoch and evaluation start: each pass reads its
    text from the beginning."""

    def _reset(self, logs=None):
        for layer in self.model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()

    on_epoch_begin = on_test_begin = lambda self, *args: self._reset()


def perplexity(model, inputs, targets):
    """exp(mean cross entropy) of the windows, state carried from the start."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()
    loss = model.evaluate(
        inputs.reshape(-1, inputs.shape[-1]),
        targets.reshape(-1, targets.shape[-1]),
        batch_size=inputs.shape[1],
        verbose=0,
    )
    return math.exp(loss)


def stream_perplexity(model, ids, config, chunk=1000):
    """exp(mean cross entropy) of `ids` read as one stream: every word after
    the first predicted from all the words before it.

    This is how Zaremba et al.'s code (and TensorFlow's PTB tutorial) measure
    test perplexity: batch 1, the state carried through the whole text.
    `perplexity` reads `batch_size` streams instead, each starting from a
    zero state, and leaves out the words after the last whole window. The
    model's weights are read by a stateful batch-1 copy, `chunk` words a
    call.
    """
    ids = np.asarray(ids, "int32")
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(
            f"Expected a 1-D stream of at least 2 word ids, got shape {ids.shape}."
        )
    reader = single_device_copy(model, config, batch_size=1)
    total = 0.0
    for start in range(0, len(ids) - 1, chunk):
        inputs = ids[start : start + chunk]
        targets = ids[start + 1 : start + chunk + 1]
        inputs = inputs[: len(targets)]
        logits = reader.predict_on_batch(inputs[None]).astype("float64")[0]
        peak = logits.max(-1, keepdims=True)
        log_norm = peak[:, 0] + np.log(np.exp(logits - peak).sum(-1))
        total += float((log_norm - logits[np.arange(len(targets)), targets]).sum())
    return math.exp(total / (len(ids) - 1))


def evaluation_streams(splits, index, config):
    """The validation and test texts as id streams, the first
    `config.eval_limit` words of each when it is set (`tiny`)."""
    streams = [stream(s.inputs, index) for s in (splits.valid, splits.test)]
    if config.eval_limit:
        streams = [ids[: config.eval_limit] for ids in streams]
    return streams


def keras_rate(config, epoch):
    """The SGD rate of (0-based) `epoch`: `learning_rate`, multiplied by
    `decay` once per epoch after the first `decay_after`, times `bptt` (see
    `compile_model`)."""
    decay = config.decay ** max(0, epoch + 1 - config.decay_after)
    return config.learning_rate * config.bptt * decay


def compile_model(model, config):
    """Plain SGD with the updates of Zaremba et al.

    They minimise the loss summed over the `bptt` steps of a window (mean
    over the batch) with rate `learning_rate`, gradients clipped to global
    norm `clipnorm`. Keras's loss is the mean over the steps as well (`loss`
    is per word, perplexity = exp(loss)), so its gradient is theirs divided by
    `bptt`: the same updates need the rate times `bptt` and the clipping
    norm divided by it. (`with_exact_clipping`: the norm of the dense
    gradient, as theirs; Keras's own miscounts the embedding's on TensorFlow.)
    """
    model.compile(
        optimizer=with_exact_clipping(
            keras.optimizers.SGD(
                keras_rate(config, 0), global_clipnorm=config.clipnorm / config.bptt
            )
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def single_device_copy(model, config, batch_size=None):
    """`model`'s weights (copies) in a fresh stateful model of `batch_size`
    streams (default: the config's) on one device."""
    copy = build_language_model(config, model.output.shape[-1], batch_size)
    for mine, trained in zip(copy.trainable_variables, model.trainable_variables):
        if tuple(mine.shape) != tuple(trained.shape):
            raise ValueError(
                f"The trained model's `{trained.path}` has shape "
                f"{tuple(trained.shape)}, the config's model {tuple(mine.shape)}: "
                "expected the config the model was trained with (leave out "
                "--preset to read it from the run's metrics.json)."
            )
        # A copy: on JAX, sharing the array would let the copy's predict
        # step donate (free) the buffer that `model` still holds.
        mine.assign(keras.ops.convert_to_numpy(trained))
    return copy


def train_and_evaluate(config, workdir, strategy=None):
    """Zaremba et al.'s training: SGD, rate decay, clipping, carried state.

    Writes `model.keras`, checkpoints, logs, `training_curves.png`,
    `vocabulary.txt`, `metrics.json` (valid and test perplexity, a sample)
    and the SavedModel `export/` to `workdir`; returns the metrics.
    `strategy`: a `tf.distribute` strategy (None: one device) whose replicas
    share the `batch_size` streams, each carrying its own streams' state.
    """
    training.check_installed(config.name)
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(
            f"lm_ptb splits its {config.batch_size} streams (`batch_size`) among "
            f"the strategy's {replicas} replicas: expected a batch size divisible "
            f"by {replicas}, got {config.batch_size}."
        )
    os.makedirs(workdir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    splits = load_data(config)
    words = vocabulary_of(splits.train.inputs, config.max_tokens)
    index = {w: i for i, w in enumerate(words)}
    train_ids = stream(splits.train.inputs, index)
    if config.train_limit:
        train_ids = train_ids[: config.train_limit]
    valid_ids, test_ids = evaluation_streams(splits, index, config)
    data = {
        name: windows(ids, config.batch_size, config.bptt)
        for name, ids in (
            ("train", train_ids),
            ("valid", valid_ids),
            ("test", test_ids),
        )
    }
    with training.scope(strategy):
        # Each replica is fed the same rows of every global batch: its own
        # streams, whose state it carries (`stateful` keras_seq layers).
        model = build_language_model(
            config, len(words), batch_size=config.batch_size // replicas
        )
        compile_model(model, config)

    def flat(name):
        inputs, targets = data[name]
        return inputs.reshape(-1, config.bptt), targets.reshape(-1, config.bptt)

    limit = [training.TimeLimit(config.time_limit)] if config.time_limit else []
    start = time.perf_counter()
    history = model.fit(
        *flat("train"),
        batch_size=config.batch_size,
        shuffle=False,  # consecutive windows continue each other
        validation_data=flat("valid"),
        epochs=config.epochs,
        callbacks=[
            ResetStates(),
            keras.callbacks.LearningRateScheduler(
                lambda epoch, current: keras_rate(config, epoch)
            ),
            *training.callbacks(workdir, patience=config.epochs),
            *limit,
        ],
        verbose=training.verbosity(),
    )
    seconds = time.perf_counter() - start
    metrics = training.run_metrics(config, history, seconds)
    if limit:
        metrics["stopped_by_time_limit"] = limit[0].stopped_epoch > 0
    if replicas > 1:  # saved and evaluated as one model of all the streams
        model = single_device_copy(model, config)
        compile_model(model, config)
    model.save(os.path.join(workdir, "model.keras"))
    training.write_lines(os.path.join(workdir, "vocabulary.txt"), words)
    training.plot_history(
        history.history, os.path.join(workdir, "training_curves.png"), config.name
    )
    metrics = {
        **metrics,
        "vocabulary": len(words),
        "train_words": len(train_ids),
        "train_words_per_second": round(
            len(train_ids) * len(history.epoch) / seconds, 1
        ),
        "valid_perplexity": perplexity(model, *data["valid"]),
        # As the paper: the test text as one stream. `batched`: as validation.
        "test_perplexity": stream_perplexity(model, test_ids, config),
        "test_perplexity_batched": perplexity(model, *data["test"]),
        "sample": "the stock market "
        + " ".join(generate(model, words, ["the stock market"], seed=1)[0]),
    }
    skipped = training.export_or_skip(
        config.name, workdir, lambda path: export(model, path, words)
    )
    if skipped:
        metrics["export"] = skipped
    return training.write_metrics(workdir, metrics)


def prompt_ids(prompts, words):
    """Prompts as the exported model reads them: `(ids, lengths)`, right-padded.

    Lower-cased, split on whitespace, the last `MAX_PROMPT_WORDS` words,
    unknown words as `<unk>`, `<eos>` in front (it precedes every sentence of
    the training text).
    """
    index = {w: i for i, w in enumerate(words)}
    unknown = index.get(UNKNOWN, 0)
    rows = [
        [index[END]]
        + [index.get(w, unknown) for w in p.lower().split()[-MAX_PROMPT_WORDS:]]
        for p in prompts
    ]
    ids = np.zeros((len(rows), max(map(len, rows))), "int32")
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return ids, np.asarray([len(row) for row in rows], "int32")


def continuer(model, words, length=20, temperature=1.0, top_k=40):
    """`(ids, lengths, seed) -> (sequences, scores, lengths)`: `continue_prompts`
    with `<eos>` of `words` as the end, for `generate` and the export."""

    def continue_ids(ids, lengths, seed):
        return continue_prompts(
            model,
            ids,
            lengths,
            end_id=words.index(END),
            max_length=length,
            temperature=temperature,
            top_k=top_k,
            seed=seed,
        )

    return continue_ids


def generate(model, words, prompts, length=20, temperature=1.0, top_k=40, seed=0):
    """Continues each prompt by sampling from the LM (`continue_prompts`).

    Returns one list of new words per prompt (without the ending `<eos>`).
    """
    continue_ids = continuer(model, words, length, temperature, top_k)
    sequences, _, new_lengths = continue_ids(*prompt_ids(prompts, words), seed)
    sequences = keras.ops.convert_to_numpy(sequences)
    new_lengths = keras.ops.convert_to_numpy(new_lengths)
    return [
        [words[i] for i in row[:n] if words[i] != END]
        for row, n in zip(sequences, new_lengths)
    ]


def _workdir_words(workdir):
    return training.read_lines(os.path.join(workdir, "vocabulary.txt"))


def evaluate(model, config, workdir):
    """Valid and test perplexity of a trained `model.keras` of `workdir`."""
    index = {w: i for i, w in enumerate(_workdir_words(workdir))}
    valid, test = evaluation_streams(load_data(config), index, config)
    # First: its copy of the model refuses a config of other sizes at once.
    test_perplexity = stream_perplexity(model, test, config)
    return {
        "valid_perplexity": perplexity(
            model, *windows(valid, config.batch_size, config.bptt)
        ),
        "test_perplexity": test_perplexity,
        "test_perplexity_batched": perplexity(
            model, *windows(test, config.batch_size, config.bptt)
        ),
    }


def predict_rows(model, texts, config, workdir):
    """A sampled continuation (top-k 40) of each prompt.

    From the exported SavedModel (`ServedModel`) when there is one, else
    from `model.keras` (20 words).
    """
    if callable(getattr(model, "signature", None)):
        return [t.decode() for t in model(texts)["continuation"]]
    words = _workdir_words(workdir)
    return [" ".join(row) for row in generate(model, words, texts)]


def export(model, path, words=None, length=20, temperature=1.0, top_k=40, **unused):
    """The SavedModel: prompts -> sampled continuations (`export_text_generator`).

    `words` defaults to the `vocabulary.txt` beside `path`.
    """
    if words is None:
        words = _workdir_words(os.path.dirname(os.path.abspath(path)))
    return export_text_generator(
        path,
        model,
        continuer(model, words, length, temperature, top_k),
        words,
        start_word=END,
        end_word=END,
        unknown_word=UNKNOWN,
        max_prompt_words=MAX_PROMPT_WORDS,
    )
