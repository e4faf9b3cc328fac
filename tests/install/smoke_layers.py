"""The installed wheel used as a user would, on JAX, with no TensorFlow.

`make test-wheel` runs it in a fresh venv that holds the wheel, Keras and
JAX only, from a directory outside the checkout:

    KERAS_BACKEND=jax python smoke_layers.py WORKDIR

Builds, fits, saves and loads a model of keras_seq layers, decodes with
beam search, scores BLEU and trains word vectors; fails if TensorFlow is
importable or gets imported, or if keras_seq comes from a checkout.
"""

import os
import sys


def main(workdir):
    import importlib.util

    import keras
    import numpy as np

    import keras_seq
    from keras_seq import decoding, embeddings, layers, metrics

    assert keras.backend.backend() == "jax", keras.backend.backend()
    assert importlib.util.find_spec("tensorflow") is None, "TensorFlow is installed"
    assert "site-packages" in keras_seq.__file__, f"not the wheel: {keras_seq.__file__}"

    inputs = keras.Input((12,), dtype="int32")
    x = keras.layers.Embedding(50, 16, mask_zero=True)(inputs)
    x = layers.Bidirectional(
        layers.LSTM(16, use_peepholes=True, return_sequences=True)
    )(x)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = layers.GRU(8)(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 50, (128, 12))
    labels = (tokens[:, 0] > 25).astype("int32")
    losses = model.fit(tokens, labels, epochs=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0], losses
    path = os.path.join(workdir, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(tokens, verbose=0), model.predict(tokens, verbose=0), atol=1e-5
    )

    logits = np.log(np.array([[0.05, 0.6, 0.35]], "float32"))

    def step_fn(ids, state):
        return np.repeat(logits, ids.shape[0], 0), state

    sequences, _, _ = decoding.beam_search(
        step_fn,
        {},
        np.array([1, 2]),
        end_id=0,
        beam_width=2,
        max_length=4,
        length_penalty=0.7,
    )
    assert tuple(sequences.shape) == (2, 1, 4), sequences.shape

    bleu = metrics.corpus_bleu(["the cat is on the mat"], [["the cat is on the mat"]])
    assert abs(bleu.score - 100.0) < 1e-6, bleu

    corpus = [["the", "cat", "sat", "on", "the", "mat"]] * 50
    vectors, _, _ = embeddings.train(
        corpus, dim=8, min_count=1, epochs=2, sample=0, verbose=0
    )
    assert "cat" in vectors and vectors["cat"].shape == (8,), "no vector for cat"

    assert "tensorflow" not in sys.modules, "keras_seq imported TensorFlow"
    print(
        f"keras_seq {keras_seq.__version__} from the wheel on JAX, no TensorFlow: "
        f"fit (loss {losses[0]:.3f} -> {losses[-1]:.3f}), save, load, beam search, "
        f"BLEU, word vectors ({len(vectors)} words): ok"
    )


if __name__ == "__main__":
    main(sys.argv[1])
