"""Words (and optionally their characters) -> Embedding -> keras_seq
Stacked(Bidirectional LSTM) -> tag probabilities."""

import collections

import keras
from keras import ops

from keras_seq import layers
from keras_seq.models import TextModel

# The character id of padding (no character); 1 is any unknown character.
PAD = 0


def build_vectorizer(config, paragraphs=None):
    """Space-separated words to ids (0 padding, 1 unknown), padded per batch."""
    vectorizer = keras.layers.TextVectorization(
        max_tokens=config.max_tokens,
        standardize=None,
        split="whitespace",
        name="tokens",
    )
    if paragraphs is not None:
        vectorizer.adapt(paragraphs)
    return vectorizer


def character_vocabulary(paragraphs, max_size):
    """The characters of space-separated `paragraphs` by decreasing count
    (ties: by code point), at most `max_size - 2` (ids 0 and 1 are taken)."""
    counts = collections.Counter(c for p in paragraphs for c in "".join(p.split()))
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    return ranked[: max(0, max_size - 2)]


@keras.saving.register_keras_serializable(package="keras_seq_zoo")
class WordCharacters(keras.layers.Layer):
    """Space-separated words `(batch,)` -> character ids `(batch, words, max_chars)`.

    Splits on whitespace as `TextVectorization(split="whitespace")` does, so
    word `t` here is word `t` of the word ids. A word longer than
    `max_chars` keeps its first `ceil(max_chars / 2)` and last
    `floor(max_chars / 2)` characters (Chinese words carry much of their
    part of speech in the first and last character). Character `vocabulary[i]`
    gets id `i + 2`; 0 pads, 1 is any other character (bytes that are not
    UTF-8 read as U+FFFD, so they get 1 too). Its string ops are
    TensorFlow's, as `TextVectorization`'s: on another Keras backend it runs
    in `tf.data` or eagerly (ids come back as that backend's tensors).

    Args:
        vocabulary: List of single characters.
        max_chars: Characters kept per word, at least 2. Defaults to 6.
    """

    def __init__(self, vocabulary, max_chars=6, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(max_chars, int) or max_chars < 2:
            raise ValueError(
                "Received an invalid value for argument `max_chars`, expected an "
                f"integer >= 2, got {max_chars!r}."
            )
        self.vocabulary = list(vocabulary)
        bad = [c for c in self.vocabulary if len(c) != 1]
        if bad:
            raise ValueError(
                f"Expected `vocabulary` to hold single characters, got {bad[:3]!r}."
            )
        self.max_chars = max_chars
        self.lookup = keras.layers.StringLookup(
            vocabulary=self.vocabulary, mask_token="", num_oov_indices=1
        )
        # Strings in, as `TextVectorization`: not converted to the backend's
        # tensors (JAX has no string arrays); the lookup returns the backend's.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True

    def build(self, input_shape):
        self.built = True  # the lookup's table is made in __init__

    def call(self, texts):
        import tensorflow as tf

        front = (self.max_chars + 1) // 2
        back = self.max_chars - front

        def kept(words):  # (n,) words -> (n, None) characters, ragged
            chars = tf.strings.unicode_split(words, "UTF-8")
            # The first `front` characters, then the last `back` of the rest:
            # a short word whole, a long one cut in the middle.
            return tf.concat([chars[:, :front], chars[:, front:][:, -back:]], axis=1)

        chars = tf.ragged.map_flat_values(kept, tf.strings.split(texts))
        dense = chars.to_tensor(default_value="", shape=[None, None, self.max_chars])
        return self.lookup(dense)  # (batch, words, max_chars)

    def compute_output_spec(self, texts):
        return keras.KerasTensor((texts.shape[0], None, self.max_chars), dtype="int64")

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
            "max_chars": self.max_chars,
        }


@keras.saving.register_keras_serializable(package="keras_seq_zoo")
class CharacterEncoder(keras.layers.Layer):
    """Character ids `(batch, words, chars)` -> a vector per word `(batch, words, 2 * units)`.

    Each word's characters go through an Embedding and a keras_seq
    `Bidirectional(LSTM)`, whose last forward and backward states are the
    word's vector (Lample et al. 2016). Id 0 pads (masked); a word of
    padding only gets zeros, and the output mask marks the words with at
    least one character.

    Args:
        vocabulary_size: Number of character ids.
        embedding_dim: Size of the character embeddings.
        units: Units of each direction's LSTM.
    """

    def __init__(self, vocabulary_size, embedding_dim, units, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True
        )
        self.encoder = layers.Bidirectional(layers.LSTM(units))

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                "CharacterEncoder expected character ids of rank 3 (batch, words, "
                f"chars), got shape {tuple(input_shape)}."
            )
        self.embedding.build((None, input_shape[-1]))
        self.encoder.build((None, input_shape[-1], self.embedding_dim))

    def call(self, chars, training=False):
        batch, words = ops.shape(chars)[0], ops.shape(chars)[1]
        flat = ops.reshape(chars, (-1, ops.shape(chars)[2]))  # (batch * words, chars)
        vectors = self.encoder(
            self.embedding(flat), mask=flat != PAD, training=training
        )  # (batch * words, 2 * units)
        return ops.reshape(vectors, (batch, words, 2 * self.units))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], 2 * self.units)

    def compute_mask(self, inputs, mask=None):
        # Padding words have no characters. (Without a mask of its own,
        # `Concatenate` with the word embeddings would count every position
        # as real: it ORs the masks and takes a missing one as all true.)
        return ops.any(ops.not_equal(inputs, PAD), axis=-1)  # (batch, words)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
        }


def build_classifier(config, vocabulary_size, num_tags):
    """Word ids `(batch, time)` -> tag probabilities `(batch, time, num_tags)`.

    With `config.char_units`, the model takes `[word ids, character ids
    (batch, time, max_word_chars)]` and each word's embedding is joined by
    its characters' `CharacterEncoder` vector. The Embedding's mask (id 0 is
    padding) reaches the output, so Keras leaves padded positions out of the
    loss and the accuracy.
    """
    ids = keras.Input((None,), dtype="int64", name="ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, mask_zero=True)(
        ids
    )
    inputs = ids
    if config.char_units:
        chars = keras.Input((None, config.max_word_chars), dtype="int64", name="chars")
        encoded = CharacterEncoder(
            config.max_char_tokens, config.char_embedding_dim, config.char_units
        )(chars)
        x = keras.layers.Concatenate()([x, encoded])
        inputs = [ids, chars]
    x = layers.Stacked(
        layers.LSTM(config.units, return_sequences=True),
        num_layers=config.num_layers,
        dropout=config.dropout,
        bidirectional=True,
    )(x)
    x = keras.layers.Dropout(config.dropout)(x)
    outputs = keras.layers.Dense(num_tags, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=config.name)


def build_characters(config, paragraphs):
    """The `WordCharacters` layer of the training `paragraphs`' characters."""
    return WordCharacters(
        character_vocabulary(paragraphs, config.max_char_tokens),
        config.max_word_chars,
        name="characters",
    )


def build_text_model(vectorizer, classifier, characters=None):
    """Space-separated words `(batch,)` -> tag probabilities: the `.keras` file.

    `characters`: the `WordCharacters` layer when the classifier reads them.
    """
    texts = keras.Input((), dtype="string", name="texts")
    inputs = vectorizer(texts)
    if characters is not None:
        inputs = [inputs, characters(texts)]
    # A `TextModel`: `predict(["..."])` and NumPy string arrays work too.
    return TextModel(texts, classifier(inputs), name=f"{classifier.name}_text")
