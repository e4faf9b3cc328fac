"""Words -> Embedding -> keras_seq Stacked(Bidirectional LSTM) -> tag probabilities."""

import keras

from keras_seq import layers


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


def build_classifier(config, vocabulary_size, num_tags):
    """Word ids `(batch, time)` -> tag probabilities `(batch, time, num_tags)`.

    The Embedding's mask (id 0 is padding) reaches the output, so Keras
    leaves padded positions out of the loss and the accuracy.
    """
    ids = keras.Input((None,), dtype="int64", name="ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, mask_zero=True)(
        ids
    )
    x = layers.Stacked(
        layers.LSTM(config.units),
        num_layers=config.num_layers,
        dropout=config.dropout,
        bidirectional=True,
    )(x)
    x = keras.layers.Dropout(config.dropout)(x)
    outputs = keras.layers.Dense(num_tags, activation="softmax")(x)
    return keras.Model(ids, outputs, name=config.name)


def build_text_model(vectorizer, classifier):
    """Space-separated words `(batch,)` -> tag probabilities: the `.keras` file."""
    texts = keras.Input((), dtype="string", name="texts")
    return keras.Model(
        texts, classifier(vectorizer(texts)), name=f"{classifier.name}_text"
    )
