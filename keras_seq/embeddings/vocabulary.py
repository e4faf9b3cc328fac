"""A word vocabulary with counts, saved as plain text."""

import collections
import os

from keras_seq.datasets.text_files import read_lines

UNK = "<unk>"


def _sentences(corpus):
    """Token lists from token lists, strings (split on whitespace) or a file path."""
    if isinstance(corpus, (str, os.PathLike)):
        path = os.fspath(corpus)
        if not os.path.exists(path):
            raise ValueError(f"Corpus file {path!r} does not exist.")
        for line in read_lines(path, "a UTF-8 corpus file"):
            tokens = line.split()
            if tokens:
                yield tokens
        return
    for sentence in corpus:
        if isinstance(sentence, bytes):
            sentence = sentence.decode("utf-8")
        yield sentence.split() if isinstance(sentence, str) else list(sentence)


class Vocabulary:
    """Words of a corpus with their counts, most frequent first.

    Build it with `Vocabulary.build(corpus, min_count=5, max_size=None)`:
    words seen fewer than `min_count` times are dropped, the `max_size` most
    frequent kept (ties broken by first appearance, so the order is
    deterministic). Word ids are positions in that order. With
    `unk=True` an explicit `"<unk>"` entry (id 0) stands for every dropped
    word and `ids()` maps unknown words to it; without it (the word2vec
    convention) unknown words are skipped by `ids()` and an error in `index()`.

    Saved as plain text, one `word<TAB>count` line per word (`save` / `load`),
    never pickled.

    Example:

    >>> vocab = Vocabulary.build([["a", "b", "a"], ["a", "c"]], min_count=1)
    >>> vocab.words, vocab.counts
    (['a', 'b', 'c'], [3, 1, 1])
    """

    def __init__(self, words, counts, unk=False):
        words, counts = list(words), [int(c) for c in counts]
        if len(words) != len(counts):
            raise ValueError(
                f"`words` and `counts` must have the same length, got {len(words)} "
                f"and {len(counts)}."
            )
        if len(set(words)) != len(words):
            duplicate = next(w for w, c in collections.Counter(words).items() if c > 1)
            raise ValueError(f"Vocabulary words must be unique, {duplicate!r} repeats.")
        if not words:
            raise ValueError("A vocabulary needs at least one word, got none.")
        if min(counts) < 0:
            word = words[counts.index(min(counts))]
            raise ValueError(
                f"Vocabulary counts must be >= 0, got {min(counts)} for {word!r}."
            )
        if unk and words[0] != UNK:
            raise ValueError(f"With `unk=True` the first word must be {UNK!r}.")
        self.words, self.counts, self.unk = words, counts, bool(unk)
        self._index = {w: i for i, w in enumerate(words)}

    @classmethod
    def build(cls, corpus, min_count=5, max_size=None, unk=False):
        """Counts the words of `corpus` (token lists, strings, or a file path)."""
        if (
            isinstance(min_count, bool)
            or not isinstance(min_count, int)
            or min_count < 1
        ):
            raise ValueError(
                f"Argument `min_count` must be a positive integer, got {min_count!r}."
            )
        counter = collections.Counter()
        for sentence in _sentences(corpus):
            counter.update(sentence)
        if not counter:
            raise ValueError("The corpus is empty: no word to build a vocabulary from.")
        if unk:
            counter.pop(UNK, None)
        kept = [(w, c) for w, c in counter.items() if c >= min_count]
        kept.sort(key=lambda wc: -wc[1])  # stable: first appearance breaks ties
        if max_size is not None:
            kept = kept[: max_size - (1 if unk else 0)]
        if not kept:
            raise ValueError(
                f"`min_count={min_count}` leaves no word: the most frequent word "
                f"appears {max(counter.values())} times."
            )
        words = [w for w, _ in kept]
        counts = [c for _, c in kept]
        if unk:
            dropped = sum(counter.values()) - sum(counts)
            words, counts = [UNK, *words], [dropped, *counts]
        return cls(words, counts, unk=unk)

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self._index

    def index(self, word):
        """The id of `word`; KeyError naming it when unknown (and no `<unk>`)."""
        if word in self._index:
            return self._index[word]
        if self.unk:
            return 0
        raise KeyError(f"Word {word!r} is not in the vocabulary ({len(self)} words).")

    def ids(self, tokens):
        """Ids of `tokens`; unknown ones map to `<unk>`, or are skipped without it."""
        if self.unk:
            return [self._index.get(t, 0) for t in tokens]
        return [self._index[t] for t in tokens if t in self._index]

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"# keras_seq vocabulary unk={int(self.unk)}\n")
            f.writelines(
                f"{word}\t{count}\n" for word, count in zip(self.words, self.counts)
            )

    @classmethod
    def load(cls, path):
        words, counts, unk = [], [], False
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f):
                line = line.rstrip("\n")
                if number == 0 and line.startswith("# keras_seq vocabulary"):
                    unk = line.endswith("unk=1")
                    continue
                word, sep, count = line.rpartition("\t")
                if not sep or not count.isdigit():
                    raise ValueError(
                        f"{path}:{number + 1}: expected 'word<TAB>count', got {line!r}."
                    )
                words.append(word)
                counts.append(int(count))
        return cls(words, counts, unk=unk)
