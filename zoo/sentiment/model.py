"""Tokens and their n-grams -> Embedding -> BiGRU/LSTM -> attention pooling -> classes."""

import keras
from keras import ops

from keras_seq import layers
from keras_seq.models import TextModel
from keras_seq.utils import checks


@keras.saving.register_keras_serializable(package="keras_seq_zoo")
class TokenNgrams:
    """`TextVectorization`'s `split`: each token, then the n-grams it starts.

    `(batch,)` strings -> ragged `(batch, tokens * ngrams)` strings. For the
    `i`-th token: the token, then tokens `i..i+1` joined by a space (the
    bigram, as `TextVectorization(ngrams=2)` writes it), ..., up to `ngrams`
    tokens; "" (the padding id 0) where the text ends first. The ids
    reshape to `(batch, tokens, ngrams)` with every n-gram at the position
    where it starts (`NgramEmbedding`), so a cut after `max_length` tokens
    keeps all the n-grams of the tokens it keeps.

    Args:
        split: "character" (each Unicode character a token) or "whitespace".
        ngrams: Positive integer, the longest n-gram (1: the tokens alone).

    Example:

    >>> TokenNgrams("whitespace", 2)(tf.constant(["not bad at all"])).to_list()
    [[b'not', b'not bad', b'bad', b'bad at', b'at', b'at all', b'all', b'']]
    """

    def __init__(self, split="character", ngrams=2):
        self.split = checks.check_choice("split", split, ("character", "whitespace"))
        self.ngrams = checks.check_positive_int("ngrams", ngrams)

    def __call__(self, texts):
        import tensorflow as tf

        if self.split == "character":
            tokens = tf.strings.unicode_split(texts, "UTF-8")
        else:
            tokens = tf.strings.split(texts)
        lengths = tokens.row_lengths()
        grams = [tokens]
        for n in range(2, self.ngrams + 1):
            starting = tf.strings.ngrams(tokens, n, separator=" ")  # (batch, L - n + 1)
            missing = lengths - starting.row_lengths()
            ends = tf.RaggedTensor.from_row_lengths(
                tf.fill([tf.reduce_sum(missing)], ""), missing
            )
            grams.append(tf.concat([starting, ends], axis=1))  # (batch, L)
        return tf.stack(grams, axis=-1).merge_dims(1, 2)  # (batch, L * ngrams)

    def get_config(self):
        return {"split": self.split, "ngrams": self.ngrams}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_seq_zoo")
class NgramEmbedding(keras.layers.Layer):
    """Ids of `TokenNgrams` -> the sum of each position's token and n-gram vectors.

    One table holds tokens and n-grams (one vocabulary). A position whose
    token id is 0 (padding) is masked; an n-gram id 0 (past the text's end)
    adds row 0 like any other id.

    Args:
        input_dim: Size of the vocabulary (padding and unknown included).
        output_dim: Size of each vector.
        ngrams: How many ids each position has (`TokenNgrams`'s `ngrams`).
        embeddings_initializer: Initializer of the table. Defaults to
            `"uniform"` (as `keras.layers.Embedding`).

    Call arguments:
        ids: `(batch, time * ngrams)` integer ids.

    Returns:
        `(batch, time, output_dim)`, with the mask `(batch, time)`: true where
        the position's token is not padding.

    Example:

    >>> layer = NgramEmbedding(10, 4, ngrams=2)
    >>> layer(np.array([[3, 5, 4, 0, 0, 0]])).shape
    (1, 3, 4)
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        ngrams=2,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_dim = checks.check_positive_int("input_dim", input_dim)
        self.output_dim = checks.check_positive_int("output_dim", output_dim)
        self.ngrams = checks.check_positive_int("ngrams", ngrams)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        checks.check_rank("ids", input_shape, 2, "(batch, time * ngrams)")
        if input_shape[1] is not None and input_shape[1] % self.ngrams:
            raise ValueError(
                f"Expected ids `(batch, time * ngrams)`, {self.ngrams} a position, "
                f"got {input_shape[1]} ids, not a multiple of {self.ngrams}."
            )
        self.embedding = keras.layers.Embedding(
            self.input_dim,
            self.output_dim,
            embeddings_initializer=self.embeddings_initializer,
            name="embedding",
        )
        self.embedding.build((None, None, self.ngrams))

    def call(self, ids):
        ids = ops.reshape(ids, (ops.shape(ids)[0], -1, self.ngrams))  # (B, T, n)
        return ops.sum(self.embedding(ids), axis=2)  # (B, T, dim)

    def compute_mask(self, ids, mask=None):
        return ops.not_equal(ids[:, :: self.ngrams], 0)

    def compute_output_shape(self, input_shape):
        time = None if input_shape[1] is None else input_shape[1] // self.ngrams
        return (input_shape[0], time, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "ngrams": self.ngrams,
            "embeddings_initializer": keras.initializers.serialize(
                self.embeddings_initializer
            ),
        }


def build_vectorizer(config, texts=None):
    """Texts -> ids `(batch, max_length * ngrams)`, adapted on `texts` if given.

    `TokenNgrams`' layout: each token's id, then those of the n-grams it
    starts (0 padding, 1 unknown); one vocabulary of tokens and n-grams.
    """
    vectorizer = keras.layers.TextVectorization(
        max_tokens=config.max_tokens,
        standardize=config.standardize,
        split=TokenNgrams(config.split, config.ngrams),
        output_sequence_length=config.max_length * config.ngrams,
        name="tokens",
    )
    if texts is not None:
        vectorizer.adapt(texts)
    return vectorizer


def _member_names(k):
    """Layer names of the `k`-th network of a classifier (the first keeps
    the plain names: `embedding`, `attention`, ...)."""
    suffix = "" if k == 0 else f"_{k}"
    parts = ("embedding", "recurrent", "dropout", "attention", "probabilities")
    return {part: part + suffix for part in parts}


def _members(classifier):
    """How many networks `classifier` averages (`config.members`)."""
    return sum(1 for layer in classifier.layers if layer.name.startswith("attention"))


def build_networks(config, vocabulary_size, num_classes=2):
    """`(ids, [probabilities of each of config.members networks])`.

    Each network: `NgramEmbedding` -> `Bidirectional` GRU/LSTM -> dropout ->
    `AttentionPooling` -> softmax, with its own weights.
    """
    recurrent = {"GRU": layers.GRU, "LSTM": layers.LSTM}[config.cell]
    ids = keras.Input((None,), dtype="int64", name="ids")
    outputs = []
    for k in range(config.members):
        names = _member_names(k)
        x = NgramEmbedding(
            vocabulary_size,
            config.embedding_dim,
            config.ngrams,
            name=names["embedding"],
        )(ids)
        x = layers.Bidirectional(
            recurrent(config.units, return_sequences=True), name=names["recurrent"]
        )(x)
        x = keras.layers.Dropout(config.dropout, name=names["dropout"])(x)
        x = layers.AttentionPooling(config.attention_units, name=names["attention"])(x)
        outputs.append(
            keras.layers.Dense(
                num_classes, activation="softmax", name=names["probabilities"]
            )(x)
        )
    return ids, outputs


def build_classifier(config, vocabulary_size, num_classes=2):
    """Ids `(batch, time * ngrams)` -> class probabilities `(batch, classes)`:
    one network's, or the average of `config.members` networks'."""
    ids, outputs = build_networks(config, vocabulary_size, num_classes)
    if len(outputs) == 1:
        return keras.Model(ids, outputs[0], name=config.name)
    average = keras.layers.Average(name="average")(outputs)
    return keras.Model(ids, average, name=config.name)


def combine(config, networks):
    """The classifier of `config.members` networks (`build_classifier`),
    the k-th with the weights of `networks[k]`, each a one-network
    classifier of the same sizes trained on its own."""
    if len(networks) != config.members:
        raise ValueError(
            f"Expected {config.members} networks (config.members), got {len(networks)}."
        )
    vocabulary_size = networks[0].get_layer("embedding").input_dim
    num_classes = networks[0].output.shape[-1]
    classifier = build_classifier(config, vocabulary_size, num_classes)
    for k, network in enumerate(networks):
        for part, name in _member_names(k).items():
            classifier.get_layer(name).set_weights(
                network.get_layer(part).get_weights()
            )
    return classifier


def build_text_model(vectorizer, classifier):
    """Raw strings `(batch,)` -> probabilities: what `.keras` files hold."""
    texts = keras.Input((), dtype="string", name="texts")
    # A `TextModel`: `predict(["..."])` and NumPy string arrays work too.
    return TextModel(
        texts, classifier(vectorizer(texts)), name=f"{classifier.name}_text"
    )


def build_attention_model(classifier):
    """Ids -> (probabilities, attention weights `(batch, time)`), same weights.

    With several networks: their average probabilities and the average of
    their attention weights.
    """
    ids = classifier.input
    probabilities, attention = [], []
    for k in range(_members(classifier)):
        names = _member_names(k)
        pooling = classifier.get_layer(names["attention"])
        weights_layer = layers.AttentionPooling.from_config(
            {**pooling.get_config(), "return_attention_scores": True}
        )
        x = classifier.get_layer(names["embedding"])(ids)
        x = classifier.get_layer(names["recurrent"])(x)
        x = classifier.get_layer(names["dropout"])(x)
        weights_layer.build(x.shape)
        weights_layer.set_weights(pooling.get_weights())
        x, weights = weights_layer(x)
        probabilities.append(classifier.get_layer(names["probabilities"])(x))
        attention.append(weights)
    if len(probabilities) == 1:
        return keras.Model(ids, [probabilities[0], attention[0]])
    return keras.Model(
        ids,
        [keras.layers.Average()(probabilities), keras.layers.Average()(attention)],
    )
