"""Words -> Embedding -> N stateful LSTM layers (keras_seq) -> next-word logits."""

import keras

from keras_seq import layers


def build_language_model(config, vocabulary_size, batch_size=None, stateful=True):
    """Word ids `(batch, time)` -> logits `(batch, time, vocabulary_size)`.

    With `stateful=True` the LSTM states carry over from one window to the
    next (truncated BPTT over `batch_size` parallel streams of the corpus);
    the batch size is then fixed.
    """
    init = keras.initializers.RandomUniform(
        -config.init_scale, config.init_scale, config.seed
    )
    ids = keras.Input(
        batch_shape=(batch_size or config.batch_size, None), dtype="int32"
    )
    if not stateful:
        ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(
        vocabulary_size, config.units, embeddings_initializer=init
    )(ids)
    x = keras.layers.Dropout(config.dropout)(x)
    for _ in range(config.num_layers):
        x = layers.LSTM(
            config.units,
            return_sequences=True,
            stateful=stateful,
            kernel_initializer=init,
            recurrent_initializer=init,
            unit_forget_bias=False,
        )(x)
        x = keras.layers.Dropout(config.dropout)(x)
    logits = keras.layers.Dense(vocabulary_size, kernel_initializer=init)(x)
    return keras.Model(ids, logits, name=config.name)
