"""The user's own data: TSVs of text and label or of translations, tagged and plain text."""

import os
import warnings

import numpy as np

from keras_seq.datasets.peoples_daily import parse_tagged_line, tagged_splits
from keras_seq.datasets.split import Split, Splits, checked_fractions, split_examples


def read_lines(path, what="a UTF-8 text file"):
    """The lines of the UTF-8 text file `path`, each with its newline.

    A directory, or bytes that are not UTF-8, raise a `ValueError` naming
    the file (and the line of the first bad byte).
    """
    if os.path.isdir(path):
        raise ValueError(f"Expected {what}, got the directory {path!r}.")
    try:
        with open(path, encoding="utf-8") as f:
            return list(f)
    except UnicodeDecodeError:
        # The decoder read the file in chunks: find the byte in the whole.
        with open(path, "rb") as f:
            data = f.read()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            bad = data[error.start : error.end]
            raise ValueError(
                f"{path}:{line}: expected {what}, got bytes that are not UTF-8 "
                f"({bad!r}: {error.reason}). Convert the file to UTF-8 first."
            ) from None
        raise


# Words a header row's cells are made of (lower case).
LABEL_HEADERS = frozenset(
    [
        "label",
        "labels",
        "class",
        "category",
        "categories",
        "sentiment",
        "polarity",
        "target",
        "tag",
        "text",
        "texts",
        "sentence",
        "review",
        "comment",
        "content",
        "document",
        "input",
    ]
)
TRANSLATION_HEADERS = frozenset(
    [
        "source",
        "target",
        "src",
        "tgt",
        "input",
        "output",
        "text",
        "sentence",
        "translation",
        "original",
        "en",
        "de",
        "es",
        "fr",
        "it",
        "pt",
        "nl",
        "ru",
        "zh",
        "ja",
        "ko",
        "ar",
        "tr",
        "pl",
        "sv",
        "fi",
        "da",
        "no",
        "cs",
        "el",
        "he",
        "hi",
        "eng",
        "deu",
        "ger",
        "spa",
        "fra",
        "fre",
        "ita",
        "por",
        "nld",
        "rus",
        "zho",
        "chi",
        "cmn",
        "jpn",
        "kor",
        "ara",
        "tur",
        "pol",
        "english",
        "german",
        "deutsch",
        "spanish",
        "español",
        "french",
        "français",
        "italian",
        "portuguese",
        "dutch",
        "russian",
        "chinese",
        "japanese",
        "korean",
        "arabic",
        "turkish",
        "polish",
    ]
)


def _check_header(header):
    if header not in (None, True, False):
        raise ValueError(
            "Received an invalid value for argument `header`, expected None "
            "(detect a header row), True (the first row is a header) or False "
            f"(no header row), got {header!r}."
        )


def _skip_header(path, rows, header, looks_like_header, why):
    """`rows` (`(line number, fields)`) without the header row, if any.

    `header` None: the first row is a header when `looks_like_header(fields)`;
    skipping it is announced with a warning that says `why`.
    """
    if not rows or header is False:
        return rows
    number, fields = rows[0]
    if header is None:
        if not looks_like_header(fields):
            return rows
        warnings.warn(
            f"{path}:{number}: read {chr(9).join(fields)!r} as a header row and "
            f"skipped it ({why}); pass header=False to read it as data.",
            stacklevel=3,
        )
    return rows[1:]


def _rows(lines):
    """`(line number, tab-separated fields)` of the non-empty lines."""
    return [
        (number, line.rstrip("\n").split("\t"))
        for number, line in enumerate(lines, 1)
        if line.strip()
    ]


def load_tsv(
    path,
    fractions=(0.8, 0.1, 0.1),
    seed=0,
    text_column=0,
    label_column=1,
    header=None,
):
    """Text classification examples from a UTF-8 TSV file (`text<TAB>label`).

    Empty lines and rows with an empty text are skipped; duplicate rows are
    kept once, a text with two labels is an error. Labels are mapped to
    integers in sorted order of their names.

    Args:
        path: The TSV file.
        fractions: `(train, valid, test)` fractions summing to 1.
        seed: Seed of the shuffle before the split.
        text_column: The texts' column, counted from 0.
        label_column: The labels' column, counted from 0 (not `text_column`).
        header: None (default): the first row is taken for a header, skipped
            with a warning, when its label is on no other row and its cells
            are header words ("label", "text", "sentiment", ...) or the
            other labels are numbers and it is not (and its text is on no
            other row). True: the first row is
            a header. False: every row is data.

    Returns:
        `Splits` of texts and int labels, `label_names` the sorted names.
    """
    fractions = checked_fractions(fractions)
    for name, column in (("text_column", text_column), ("label_column", label_column)):
        if isinstance(column, bool) or not isinstance(column, int) or column < 0:
            raise ValueError(
                f"Received an invalid value for argument `{name}`, expected a "
                f"column number >= 0 (the first column is 0), got {column!r}."
            )
    if text_column == label_column:
        raise ValueError(
            "Expected `text_column` and `label_column` to name two different "
            f"columns, got {text_column} for both."
        )
    _check_header(header)
    lines = _rows(read_lines(path, "a `text<TAB>label` TSV file"))
    labels = [f[label_column].strip() for _, f in lines if len(f) > label_column]
    texts = [f[text_column].strip() for _, f in lines if len(f) > text_column]

    def looks_like_header(fields):
        if len(fields) <= max(text_column, label_column):
            return False
        label, text = fields[label_column].strip(), fields[text_column].strip()
        if labels.count(label) != 1 or texts.count(text) != 1:
            return False
        cells = {text.lower(), label.lower()}
        others = [other for other in labels if other != label]
        numeric = bool(others) and all(_is_number(other) for other in others)
        return bool(cells & LABEL_HEADERS) or (numeric and not _is_number(label))

    lines = _skip_header(
        path,
        lines,
        header,
        looks_like_header,
        "its cells are on no other row and read as column names",
    )
    rows = {}
    for number, fields in lines:
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


def load_translation_tsv(path, fractions=(0.8, 0.1, 0.1), seed=0, header=None):
    """Translation pairs from a UTF-8 TSV file (`source<TAB>target[<TAB>...]`).

    The Anki / Tatoeba format: further columns (attribution) are ignored.
    Rows with an empty side are skipped; a source with several targets keeps
    the first in sorted order, so that no source is in two splits.

    `header`: None (default): a first row of column names (each cell one of
    "source", "target", "text", a language's name or code such as "de",
    "eng", "English", ...) is skipped with a warning; True: the first row is
    a header; False: every row is data.

    Returns:
        `Splits` with source `inputs` and target `targets` (strings).
    """
    _check_header(header)
    lines = _rows(read_lines(path, "a `source<TAB>target` TSV file"))

    def looks_like_header(fields):
        cells = [cell.strip().lower() for cell in fields[:2]]
        return (
            len(cells) == 2
            and cells[0] != cells[1]
            and all(cell in TRANSLATION_HEADERS for cell in cells)
        )

    lines = _skip_header(
        path, lines, header, looks_like_header, "its cells read as column names"
    )
    translations = {}
    for number, fields in lines:
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


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


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
    return [line.strip() for line in read_lines(path) if line.strip()]


def load_tagged_text(path, fractions=(0.8, 0.1, 0.1), seed=0):
    """Tagged sentences of one's own (part of speech, named entities...).

    Two formats, told apart by the first non-empty line (columns when it
    holds a tab and is not all `word/TAG` tokens):

    - `word/TAG` tokens separated by whitespace, a sentence a line (People's
      Daily's format; `parse_tagged_line`);
    - CoNLL-style columns: a word a line, `word<TAB>...<TAB>TAG` (the first
      column the word, the last its tag), a blank line after each sentence.

    Sentences with the same words are kept once (the first), shuffled with
    `seed` and split by `fractions`, as `load_peoples_daily_pos` does.

    Returns:
        `Splits` of word lists and tag lists; `label_names` the sorted tag
        set of the training split.
    """
    lines = [line.rstrip("\n") for line in read_lines(path, "a tagged text file")]
    content = [line for line in lines if line.strip()]
    if not content:
        raise ValueError(f"{path} holds no tagged sentences.")
    # A tab-separated `word/TAG` line is still that format, not two columns.
    word_tags = all(
        "" not in token.rpartition("/")[::2] for token in content[0].split()
    )
    if "\t" in content[0] and not word_tags:
        examples = _conll_sentences(path, lines)
    else:
        examples = [parse_tagged_line(line) for line in content]
    return tagged_splits(
        examples,
        fractions,
        seed,
        f"{path}: {{count}} unique sentences, shuffled with seed {{seed}}, "
        "split {fractions}.",
    )


def _conll_sentences(path, lines):
    sentences, words, tags = [], [], []
    for number, line in enumerate(lines + [""], 1):
        if not line.strip():
            if words:
                sentences.append((words, tags))
            words, tags = [], []
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[-1].strip():
            raise ValueError(
                f"{path}:{number}: expected `word<TAB>TAG` (a word a line, a blank "
                f"line between sentences), got {line!r}."
            )
        words.append(fields[0].strip())
        tags.append(fields[-1].strip())
    return sentences
