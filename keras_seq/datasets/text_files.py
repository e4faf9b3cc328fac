"""The user's own data: a TSV of text and label, of translations, plain text."""

import os

import numpy as np

from keras_seq.datasets.split import Split, Splits, checked_fractions, split_examples


def load_tsv(path, fractions=(0.8, 0.1, 0.1), seed=0, text_column=0, label_column=1):
    """Text classification examples from a UTF-8 TSV file (`text<TAB>label`).

    Empty lines and rows with an empty text are skipped; duplicate rows are
    kept once, a text with two labels is an error. Labels are mapped to
    integers in sorted order of their names.

    Returns:
        `Splits` of texts and int labels, `label_names` the sorted names.
    """
    rows = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) <= max(text_column, label_column):
                raise ValueError(
                    f"{path}:{number}: expected at least "
                    f"{max(text_column, label_column) + 1} tab-separated columns, "
                    f"got {len(fields)}."
                )
            text, label = fields[text_column].strip(), fields[label_column].strip()
            if not text:
                continue
            if rows.setdefault(text, label) != label:
                raise ValueError(
                    f"{path}:{number}: the text {text[:50]!r} has two labels, "
                    f"{rows[text]!r} and {label!r}."
                )
    if not rows:
        raise ValueError(f"{path} holds no `text<TAB>label` rows.")
    names = sorted(set(rows.values()))
    texts = sorted(rows)
    labels = np.array([names.index(rows[t]) for t in texts], "int32")
    return split_examples(
        texts,
        labels,
        fractions,
        seed,
        label_names=names,
        description=f"{path}: {len(texts)} unique rows, seed {seed}, split {fractions}.",
    )


def load_translation_tsv(path, fractions=(0.8, 0.1, 0.1), seed=0):
    """Translation pairs from a UTF-8 TSV file (`source<TAB>target[<TAB>...]`).

    The Anki / Tatoeba format: further columns (attribution) are ignored.
    Rows with an empty side are skipped; a source with several targets keeps
    the first in sorted order, so that no source is in two splits.

    Returns:
        `Splits` with source `inputs` and target `targets` (strings).
    """
    translations = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 2:
                raise ValueError(
                    f"{path}:{number}: expected `source<TAB>target`, got "
                    f"{len(fields)} column."
                )
            source, target = fields[0].strip(), fields[1].strip()
            if source and target:
                translations.setdefault(source, set()).add(target)
    if not translations:
        raise ValueError(f"{path} holds no `source<TAB>target` rows.")
    sources = sorted(translations)
    return split_examples(
        sources,
        [min(translations[s]) for s in sources],
        fractions,
        seed,
        description=f"{path}: {len(sources)} pairs, seed {seed}, split {fractions}.",
    )


def load_text(path, fractions=(0.8, 0.1, 0.1)):
    """Language-modelling text of one's own, one sentence (or line) per line.

    `path` is either a UTF-8 text file, cut in file order into consecutive
    train / valid / test parts by `fractions` of its non-empty lines (a
    language model reads text in order, so nothing is shuffled), or a
    directory holding `train.txt`, `valid.txt` and `test.txt` (the layout
    of Mikolov's PTB files). Lines are stripped; empty lines are skipped.

    Returns:
        `Splits` of sentences (str), targets None, as `load_penn_treebank`.
    """
    names = ("train", "valid", "test")
    if os.path.isdir(path):
        files = [os.path.join(path, f"{name}.txt") for name in names]
        missing = [f for f in files if not os.path.isfile(f)]
        if missing:
            raise FileNotFoundError(
                f"Expected a directory with train.txt, valid.txt and test.txt, "
                f"got {path!r} without {[os.path.basename(f) for f in missing]}."
            )
        parts = [_sentences(f) for f in files]
        description = f"{path}: train.txt, valid.txt, test.txt."
    elif os.path.isfile(path):
        fractions = checked_fractions(fractions)
        lines = _sentences(path)
        ends = np.round(np.cumsum(fractions) * len(lines)).astype(int)
        parts = [lines[: ends[0]], lines[ends[0] : ends[1]], lines[ends[1] :]]
        description = (
            f"{path}: {len(lines)} lines, cut in order into {fractions} "
            "(train, valid, test)."
        )
    else:
        raise FileNotFoundError(
            f"Expected a text file or a directory of train.txt, valid.txt and "
            f"test.txt, got {path!r}: no such file or directory."
        )
    empty = [name for name, part in zip(names, parts) if not part]
    if empty:
        raise ValueError(
            f"{path}: expected text in every split, got none in {empty} "
            f"({[len(p) for p in parts]} lines)."
        )
    return Splits(*(Split(part) for part in parts), description=description)


def _sentences(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]
