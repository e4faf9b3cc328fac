"""Tokens -> Embedding -> bidirectional GRU/LSTM -> attention pooling -> 2 classes."""

import keras

from keras_seq import layers


def build_vectorizer(config, texts=None):
    """Tokens to ids (0 padding, 1 unknown), adapted on `texts` if given."""
    vectorizer = keras.layers.TextVectorization(
        max_tokens=config.max_tokens,
        standardize=config.standardize,
        split=config.split,
        ngrams=config.ngrams if config.ngrams > 1 else None,
        output_sequence_length=config.max_length,
        name="tokens",
    )
    if texts is not None:
        vectorizer.adapt(texts)
    return vectorizer


def build_classifier(config, vocabulary_size, num_classes=2):
    """Token ids `(batch, time)` -> class probabilities `(batch, classes)`."""
    recurrent = {"GRU": layers.GRU, "LSTM": layers.LSTM}[config.cell]
    ids = keras.Input((None,), dtype="int64", name="ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, mask_zero=True)(
        ids
    )
    x = layers.Bidirectional(recurrent(config.units, return_sequences=True))(x)
    x = keras.layers.Dropout(config.dropout)(x)
    x = layers.AttentionPooling(config.attention_units, name="attention")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(ids, outputs, name=config.name)


def build_text_model(vectorizer, classifier):
    """Raw strings `(batch,)` -> probabilities: what `.keras` files hold."""
    texts = keras.Input((), dtype="string", name="texts")
    return keras.Model(
        texts, classifier(vectorizer(texts)), name=f"{classifier.name}_text"
    )


def build_attention_model(classifier):
    """Ids -> (probabilities, attention weights `(batch, time)`), same weights."""
    pooling = classifier.get_layer("attention")
    weights_layer = layers.AttentionPooling.from_config(
        {**pooling.get_config(), "return_attention_scores": True}
    )
    ids = classifier.input
    x = ids
    for layer in classifier.layers[1:]:
        if layer is pooling:
            weights_layer.build(x.shape)
            weights_layer.set_weights(pooling.get_weights())
            x, weights = weights_layer(x)
        else:
            x = layer(x)
    return keras.Model(ids, [x, weights])
