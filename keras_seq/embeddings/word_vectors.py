"""Trained word vectors: similarity, analogies, evaluation, word2vec file formats."""

import os

import numpy as np

from keras_seq.utils.checks import check_positive_int


def _spearman(a, b):
    """Spearman's rank correlation (average ranks for ties), in NumPy."""

    def ranks(x):
        x = np.asarray(x, np.float64)
        order = np.argsort(x, kind="mergesort")
        ranked = np.empty(len(x))
        ranked[order] = np.arange(len(x))
        for value in np.unique(x):  # ties share their mean rank
            tied = x == value
            ranked[tied] = ranked[tied].mean()
        return ranked

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / np.sqrt((ra**2).sum() * (rb**2).sum()))


class WordVectors:
    """Word vectors with the queries of gensim's `KeyedVectors`.

    Args:
        words: Sequence of unique words.
        vectors: `(len(words), dim)` array.

    Queries raise `KeyError` naming the word when a word is unknown.

    Example:

    >>> import numpy as np
    >>> from keras_seq.embeddings import WordVectors
    >>> wv = WordVectors(["a", "b", "c"], np.eye(3, dtype="float32"))
    >>> wv.similarity("a", "a")
    1.0
    """

    def __init__(self, words, vectors):
        words = list(words)
        vectors = np.asarray(vectors, np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(
                f"`vectors` must have shape ({len(words)}, dim), one row per word, "
                f"got shape {vectors.shape}."
            )
        if len(set(words)) != len(words):
            raise ValueError("`words` must be unique.")
        if not np.isfinite(vectors).all():
            bad = words[int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])]
            raise ValueError(
                "`vectors` must be finite, got NaN or infinite values (first in "
                f"the vector of {bad!r})."
            )
        self.words, self.vectors = words, vectors
        self._index = {w: i for i, w in enumerate(words)}
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._unit = vectors / np.maximum(norms, 1e-12)

    @classmethod
    def from_model(cls, model, vocabulary):
        """The input vectors (`embeddings`) of a `SkipGram` / `CBOW` model."""
        return cls(vocabulary.words, np.asarray(model.embeddings.numpy()))

    @property
    def dim(self):
        return self.vectors.shape[1]

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self._index

    def index(self, word):
        if word not in self._index:
            raise KeyError(
                f"Word {word!r} is not in the vocabulary ({len(self)} words)."
            )
        return self._index[word]

    def __getitem__(self, word):
        return self.vectors[self.index(word)]

    def similarity(self, first, second):
        """Cosine similarity of two words."""
        return float(self._unit[self.index(first)] @ self._unit[self.index(second)])

    def most_similar(self, positive=(), negative=(), topn=10):
        """Nearest words by cosine to `sum(positive) - sum(negative)` (3CosAdd).

        Unit vectors are combined (as gensim does) and the query words left
        out. `most_similar("king")` is a single positive word; the analogy
        "a is to b as c is to ?" is `most_similar(positive=[b, c], negative=[a])`.
        """
        positive, negative = self._query_words("most_similar", positive, negative)
        check_positive_int("topn", topn)
        query = np.zeros(self.dim, np.float32)
        for word in positive:
            query += self._unit[self.index(word)]
        for word in negative:
            query -= self._unit[self.index(word)]
        query /= max(np.linalg.norm(query), 1e-12)
        return self._top(self._unit @ query, set(positive) | set(negative), topn)

    def most_similar_cosmul(self, positive=(), negative=(), topn=10):
        """3CosMul (Levy & Goldberg 2014): `prod pos / (prod neg + eps)`.

        Cosines are shifted to `(1 + cos) / 2` so that they are positive.
        """
        positive, negative = self._query_words(
            "most_similar_cosmul", positive, negative
        )
        check_positive_int("topn", topn)
        pos = [(1 + self._unit @ self._unit[self.index(w)]) / 2 for w in positive]
        neg = [(1 + self._unit @ self._unit[self.index(w)]) / 2 for w in negative]
        scores = np.prod(pos, axis=0) / (np.prod(neg, axis=0) + 1e-6)
        return self._top(scores, set(positive) | set(negative), topn)

    @staticmethod
    def _query_words(method, positive, negative):
        if isinstance(positive, str):
            positive = [positive]
        if isinstance(negative, str):
            negative = [negative]
        if not positive and not negative:
            raise ValueError(
                f"`{method}` needs at least one positive or negative word."
            )
        return list(positive), list(negative)

    def _top(self, scores, exclude, topn):
        order = np.argsort(-scores, kind="stable")
        out = []
        for i in order:
            if self.words[i] not in exclude:
                out.append((self.words[i], float(scores[i])))
                if len(out) == topn:
                    break
        return out

    def evaluate_word_pairs(self, pairs, delimiter="\t", case_insensitive=True):
        """Spearman correlation with human similarity judgements.

        Args:
            pairs: A file of `word1<delim>word2<delim>score` lines (`#`
                comments allowed; WordSim353 / SimLex-999 as gensim ships them)
                or a sequence of `(word1, word2, score)`.

        Returns:
            `{"spearman": rho, "oov_ratio": share of pairs skipped, "pairs":
            pairs used}`; pairs with an unknown word are skipped, as gensim.
        """
        rows = list(_read_pairs(pairs, delimiter)) if _is_path(pairs) else list(pairs)
        ours, theirs, skipped = [], [], 0
        for first, second, score in rows:
            if case_insensitive:
                first, second = first.lower(), second.lower()
            if first not in self or second not in self:
                skipped += 1
                continue
            ours.append(self.similarity(first, second))
            theirs.append(float(score))
        if len(ours) < 2:
            raise ValueError(
                f"Only {len(ours)} of {len(rows)} word pairs are in the vocabulary."
            )
        return {
            "spearman": _spearman(ours, theirs),
            "oov_ratio": skipped / len(rows),
            "pairs": len(ours),
        }

    def evaluate_analogies(self, analogies, restrict_vocab=300000, method="add"):
        """Accuracy on "a b c d" analogy questions ("a is to b as c is to d").

        Questions with a word outside the `restrict_vocab` most frequent
        words are skipped (as gensim's `evaluate_word_analogies`); the answer is
        the best word other than a, b, c by 3CosAdd (`method="add"`) or 3CosMul
        (`"mul"`), searched among those words.

        Args:
            analogies: A file in the Google `questions-words.txt` format
                (`: section` lines, then four words per line) or a sequence of
                `(section, a, b, c, d)`.

        Returns:
            `{"accuracy": total, "sections": {name: (correct, asked)},
            "skipped": questions skipped}`.
        """
        if method not in ("add", "mul"):
            raise ValueError(f"`method` must be 'add' or 'mul', got {method!r}.")
        questions = (
            list(_read_analogies(analogies)) if _is_path(analogies) else list(analogies)
        )
        allowed = self.words[:restrict_vocab]
        sub = WordVectors(allowed, self.vectors[: len(allowed)])
        query = sub.most_similar if method == "add" else sub.most_similar_cosmul
        sections, skipped = {}, 0
        for section, a, b, c, d in questions:
            a, b, c, d = (w.lower() for w in (a, b, c, d))
            if not all(w in sub for w in (a, b, c, d)):
                skipped += 1
                continue
            guess = query(positive=[b, c], negative=[a], topn=1)[0][0]
            correct, asked = sections.get(section, (0, 0))
            sections[section] = (correct + (guess == d), asked + 1)
        asked = sum(n for _, n in sections.values())
        if not asked:
            raise ValueError(
                "No analogy question has all four words in the vocabulary."
            )
        return {
            "accuracy": sum(c for c, _ in sections.values()) / asked,
            "sections": sections,
            "skipped": skipped,
        }

    def save_word2vec_format(self, path, binary=False):
        """word2vec's text (`binary=False`) or binary format, readable by gensim."""
        with open(path, "wb") as f:
            f.write(f"{len(self)} {self.dim}\n".encode())
            for word, vector in zip(self.words, self.vectors):
                if binary:
                    f.write(
                        word.encode("utf-8")
                        + b" "
                        + vector.astype("<f4").tobytes()
                        + b"\n"
                    )
                else:
                    values = " ".join(repr(float(v)) for v in vector)
                    f.write(f"{word} {values}\n".encode())

    @classmethod
    def load_word2vec_format(cls, path, binary=False):
        """Reads the word2vec text or binary format (e.g. saved by gensim)."""
        with open(path, "rb") as f:
            header = f.readline().split()
            if len(header) != 2:
                raise ValueError(
                    f"{path}: expected a 'count dim' header, got {header!r}."
                )
            count, dim = int(header[0]), int(header[1])
            words, vectors = [], np.zeros((count, dim), np.float32)
            for i in range(count):
                if binary:
                    word = bytearray()
                    while True:
                        char = f.read(1)
                        if char == b" ":
                            break
                        if not char:
                            raise ValueError(f"{path}: file ends inside word {i}.")
                        if char != b"\n":
                            word += char
                    words.append(word.decode("utf-8"))
                    vectors[i] = np.frombuffer(f.read(4 * dim), "<f4")
                else:
                    parts = f.readline().decode("utf-8").rstrip().split(" ")
                    if len(parts) != dim + 1:
                        raise ValueError(
                            f"{path}: line {i + 2} has {len(parts) - 1} values, "
                            f"expected {dim}."
                        )
                    words.append(parts[0])
                    vectors[i] = [float(v) for v in parts[1:]]
        return cls(words, vectors)

    def export_projector(self, directory):
        """`vectors.tsv` and `metadata.tsv` for projector.tensorflow.org / TensorBoard."""
        os.makedirs(directory, exist_ok=True)
        np.savetxt(os.path.join(directory, "vectors.tsv"), self.vectors, delimiter="\t")
        with open(os.path.join(directory, "metadata.tsv"), "w", encoding="utf-8") as f:
            f.writelines(f"{word}\n" for word in self.words)

    def embedding_layer(self, vocabulary, trainable=True, seed=0, **kwargs):
        """A `keras.layers.Embedding` for `vocabulary` (a word list or `Vocabulary`).

        Row `i` is the vector of `vocabulary[i]`; words without a vector get
        small random values (uniform in +-0.5 / dim, like word2vec's start).
        """
        import keras

        words = list(getattr(vocabulary, "words", vocabulary))
        rng = np.random.default_rng(seed)
        matrix = rng.uniform(-0.5 / self.dim, 0.5 / self.dim, (len(words), self.dim))
        matrix = matrix.astype(np.float32)
        for i, word in enumerate(words):
            if word in self:
                matrix[i] = self[word]
        layer = keras.layers.Embedding(
            len(words), self.dim, trainable=trainable, **kwargs
        )
        layer.build((None,))
        layer.set_weights([matrix])
        return layer


def _is_path(x):
    return isinstance(x, (str, os.PathLike))


def _read_pairs(path, delimiter):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split(delimiter)
            try:
                yield parts[0], parts[1], float(parts[2])
            except (IndexError, ValueError):
                continue  # a header line


def _read_analogies(path):
    section = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(":"):
                section = line[1:].strip()
                continue
            words = line.split()
            if len(words) == 4:
                yield (section, *words)
