"""`Split` and `Splits`: examples of one split, and the train/valid/test triple."""

import dataclasses
import importlib.util
import math

import numpy as np


@dataclasses.dataclass
class Split:
    """The examples of one split: `inputs[i]` goes with `targets[i]`.

    Attributes:
        inputs: List of texts (str), or of token lists.
        targets: Integer labels `(n,)`, list of tag lists, or None (language
            modelling).
    """

    inputs: list
    targets: object = None

    def __len__(self):
        return len(self.inputs)

    def dataset(self, batch_size=32, shuffle=False, seed=0, sort_window=0):
        """A `tf.data.Dataset` of `(inputs, targets)` batches (or `inputs`).

        Texts become `tf.string` tensors; token and tag lists become ragged
        `tf.string` tensors. `shuffle` reshuffles every epoch from `seed`.

        `sort_window` (with `shuffle`, texts only): every `sort_window`
        batches' worth of shuffled examples is sorted by length (characters
        of the input plus the target) before it is cut into batches, and the
        batches are shuffled again. Batches then hold texts of similar
        lengths, so padding to the longest wastes little, while every epoch
        still sees every example once in a new order. 0 sorts nothing.
        """
        if sort_window < 0 or int(sort_window) != sort_window:
            raise ValueError(
                "Received an invalid value for argument `sort_window`, expected "
                f"a number of batches >= 0, got {sort_window!r}."
            )
        if importlib.util.find_spec("tensorflow") is None:
            raise ModuleNotFoundError(
                "Split.dataset() builds a tf.data pipeline, and TensorFlow is not "
                "installed: pip install 'keras_seq[tensorflow]' (the split's "
                "lists work without it)",
                name="tensorflow",
            )
        import tensorflow as tf

        def tensor(values):
            if values and isinstance(values[0], (list, tuple)):
                return tf.ragged.constant(values, dtype=tf.string)
            return tf.constant(values)

        if not self.inputs:
            raise ValueError("This split is empty: there is nothing to batch.")
        elements = tensor(list(self.inputs))
        if self.targets is not None:
            targets = self.targets
            if isinstance(targets, np.ndarray):
                targets = tf.constant(targets)
            else:
                targets = tensor(list(targets))
            elements = (elements, targets)
        data = tf.data.Dataset.from_tensor_slices(elements)
        if shuffle:
            data = data.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        if shuffle and sort_window:
            if not isinstance(self.inputs[0], str):
                raise ValueError(
                    "`sort_window` sorts texts by length; this split holds "
                    f"{type(self.inputs[0]).__name__}s. Use sort_window=0."
                )
            return _sorted_batches(data, len(self), batch_size, int(sort_window), seed)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _sorted_batches(data, size, batch_size, window, seed):
    """Batches of `data` (`size` examples) sorted by text length within
    windows of batches."""
    import tensorflow as tf

    def length(element):
        parts = element if isinstance(element, tuple) else (element,)
        texts = [part for part in parts if part.dtype == tf.string]  # not labels
        return tf.add_n([tf.strings.length(text) for text in texts])

    def by_length(*element):
        element = element if len(element) > 1 else element[0]
        order = tf.argsort(length(element), stable=True)
        return tf.nest.map_structure(lambda part: tf.gather(part, order), element)

    return (
        data.batch(batch_size * window)
        .map(by_length)
        .unbatch()
        .batch(batch_size)
        # `unbatch` hides the count, and Keras would warn at the end of the
        # first epoch that the input "ran out of data". Every window but the
        # last is whole batches, so there are as many as without sorting.
        .apply(tf.data.experimental.assert_cardinality(-(-size // batch_size)))
        .shuffle(window, seed=seed, reshuffle_each_iteration=True)
        .prefetch(tf.data.AUTOTUNE)
    )


@dataclasses.dataclass
class Splits:
    """Train, validation and test splits, plus what the targets mean.

    Attributes:
        train, valid, test: `Split`s.
        label_names: Names of the integer labels (classification), else None.
        description: How the data was read, deduplicated and split.
    """

    train: Split
    valid: Split
    test: Split
    label_names: list = None
    description: str = ""

    def __iter__(self):
        return iter((self.train, self.valid, self.test))


def split_examples(inputs, targets, fractions=(0.8, 0.1, 0.1), seed=0, **info):
    """Shuffles examples with `seed` and cuts them into train, valid and test.

    The order of `inputs` must itself be deterministic (loaders sort or keep
    the file order): the same data and seed give the same splits.

    Args:
        inputs: Sequence of examples.
        targets: Sequence of the same length, or None.
        fractions: `(train, valid, test)` fractions summing to 1; a split
            of a positive fraction must get at least one example.
        seed: Seed of the permutation.
        **info: `label_names`, `description` for `Splits`.
    """
    fractions = checked_fractions(fractions)
    n = len(inputs)
    if targets is not None and len(targets) != n:
        raise ValueError(f"Got {n} inputs but {len(targets)} targets.")
    order = np.random.default_rng(seed).permutation(n)
    ends = np.round(np.cumsum(fractions) * n).astype(int)
    parts = np.split(order, ends[:2])
    # A split asked for but left empty would fail later, after training.
    empty = [
        name
        for name, part, fraction in zip(("train", "valid", "test"), parts, fractions)
        if fraction > 0 and len(part) == 0
    ]
    if empty:
        source = info.get("description")
        raise ValueError(
            f"{n} examples are too few to split by {fractions}: the "
            f"{' and '.join(empty)} split{'s' if len(empty) > 1 else ''} would "
            "be empty. Give more examples"
            + (f" (the data: {source.rstrip('.')})." if source else ".")
        )

    def take(indices):
        chosen = [inputs[i] for i in indices]
        if targets is None:
            return Split(chosen)
        if isinstance(targets, np.ndarray):
            return Split(chosen, targets[indices])
        return Split(chosen, [targets[i] for i in indices])

    return Splits(*(take(p) for p in parts), **info)


def checked_fractions(fractions):
    """`fractions` as three floats; ValueError unless (train, valid, test) sum to 1."""
    try:
        numbers = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        numbers = ()
    valid = (
        len(numbers) == 3
        and all(math.isfinite(f) and f >= 0 for f in numbers)
        and abs(sum(numbers) - 1) <= 1e-6
    )
    if not valid:
        raise ValueError(
            "Received an invalid value for argument `fractions`, expected three "
            f"non-negative fractions (train, valid, test) summing to 1, got "
            f"{fractions!r}."
        )
    return numbers
