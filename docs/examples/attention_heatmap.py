"""Trains a tiny attention model to reverse digit strings and draws its attention.

The encoder is an `Embedding(mask_zero=True)` and a keras_seq `Bidirectional`
GRU (its backward direction reads only the real digits, so every position knows
its distance from the end); the decoder asks one learned query per output
position (`PositionEmbedding`) and reads the encoder with `AdditiveAttention`.
To reverse, output position `t` must attend to input position `length - 1 - t`:
the heatmap shows the anti-diagonal the model learned, and zero weight on the
padding. `make docs` runs it to draw the figure of the attention guide.

    python docs/examples/attention_heatmap.py [--output docs/images/attention_heatmap.png]
"""

import argparse

import keras
import numpy as np

from keras_seq import layers
from keras_seq.plotting import plot_attention

LENGTH, VOCAB = 8, 12  # digits 1..11, 0 is padding


def reversal_data(size, rng):
    lengths = rng.integers(4, LENGTH + 1, size=size)
    source = np.zeros((size, LENGTH), "int32")
    target = np.zeros((size, LENGTH), "int32")
    for i, n in enumerate(lengths):
        digits = rng.integers(1, VOCAB, size=n)
        source[i, :n] = digits
        target[i, :n] = digits[::-1]
    return source, target


def build_model():
    source = keras.Input((LENGTH,), dtype="int32")
    embedded = keras.layers.Embedding(VOCAB, 32, mask_zero=True)(source)
    encoded = layers.Bidirectional(layers.GRU(32, return_sequences=True))(embedded)
    queries = layers.PositionEmbedding(LENGTH)(encoded)
    context, weights = layers.AdditiveAttention(32)(
        queries, encoded, return_attention_scores=True
    )
    hidden = keras.layers.Concatenate()([context, queries])
    logits = keras.layers.Dense(VOCAB)(keras.layers.Dense(64, "relu")(hidden))
    return keras.Model(source, logits), keras.Model(source, weights)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="docs/images/attention_heatmap.png")
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    source, target = reversal_data(8192, rng)
    model, attention = build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=["accuracy"],
    )
    model.fit(
        source,
        target,
        sample_weight=(target > 0).astype("float32"),
        epochs=args.epochs,
        batch_size=128,
        verbose=2,
    )
    test_source, test_target = reversal_data(1000, np.random.default_rng(1))
    predicted = np.argmax(model.predict(test_source, verbose=0), -1)
    real = test_target > 0
    exact = np.mean(np.all((predicted == test_target) | ~real, axis=1))
    print(f"held-out strings reversed exactly: {exact:.3f}")

    example = np.array([[3, 1, 4, 1, 5, 9, 2, 0]], "int32")
    weights = keras.ops.convert_to_numpy(attention(example))[0]
    n = int(np.sum(example > 0))
    output = np.argmax(keras.ops.convert_to_numpy(model(example))[0], -1)
    plot_attention(
        weights[:n],
        [str(d) if d else "<pad>" for d in example[0]],
        [str(d) for d in output[:n]],
        path=args.output,
        title="Reversing 3141592: AdditiveAttention weights",
    )
    print(f"heatmap: {args.output}")


if __name__ == "__main__":
    main()
