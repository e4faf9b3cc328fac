"""The language model's input pipeline: sentences, the vocabulary, id streams, windows."""

import collections
import os

import numpy as np

from keras_seq.datasets import load_penn_treebank, load_text

END = "<eos>"


UNKNOWN = "<unk>"


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


def evaluation_streams(splits, index, config):
    """The validation and test texts as id streams, the first
    `config.eval_limit` words of each when it is set (`tiny`)."""
    streams = [stream(s.inputs, index) for s in (splits.valid, splits.test)]
    if config.eval_limit:
        streams = [ids[: config.eval_limit] for ids in streams]
    return streams
