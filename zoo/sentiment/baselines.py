"""The baselines the sentiment models are measured against: a logistic
regression on multi-hot tokens and n-grams, snownlp's naive Bayes."""

import keras
import numpy as np

from .input_pipeline import LABEL_NAMES


def bag_of_words_classifier(splits, config, epochs=20):
    """Logistic regression on multi-hot tokens and n-grams: `texts -> probabilities`.

    The same tokens as `config` (vocabulary from the training split), a
    softmax over the classes of `splits`, Adam, early stopping on the
    validation split's loss (the best epoch kept).
    """
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    vectorizer = keras.layers.TextVectorization(
        max_tokens=config.max_tokens,
        standardize=config.standardize,
        split=config.split,
        ngrams=config.ngrams,
        output_mode="multi_hot",
    )
    vectorizer.adapt(splits.train.inputs)
    classes = len(splits.label_names or LABEL_NAMES)
    model = keras.Sequential([keras.layers.Dense(classes, activation="softmax")])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy"
    )

    def features(texts):
        return vectorizer(tf.constant(list(texts)))

    model.fit(
        features(splits.train.inputs),
        splits.train.targets,
        validation_data=(features(splits.valid.inputs), splits.valid.targets),
        epochs=epochs,
        batch_size=64,
        callbacks=[
            keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
        ],
        verbose=0,
    )
    return lambda texts: model.predict(features(texts), verbose=0)


def bag_of_words_baseline(splits, config, epochs=20):
    """Test accuracy of `bag_of_words_classifier`."""
    probabilities = bag_of_words_classifier(splits, config, epochs)(splits.test.inputs)
    return float(np.mean(probabilities.argmax(-1) == splits.test.targets))


def naive_bayes_baseline(splits):
    """snownlp's own naive Bayes classifier retrained on `splits.train`: test accuracy."""
    from snownlp import sentiment

    classifier = sentiment.Sentiment()
    texts, labels = splits.train.inputs, splits.train.targets
    classifier.train(
        [t for t, y in zip(texts, labels) if y == 0],
        [t for t, y in zip(texts, labels) if y == 1],
    )
    predictions = [int(classifier.classify(t) > 0.5) for t in splits.test.inputs]
    return float(np.mean(np.array(predictions) == splits.test.targets))
