"""One keras_seq model served three ways: ONNX Runtime, LiteRT, TF Serving.

Trains a tiny classifier (is a digit string's last digit larger than its
first?) built from
keras_seq layers (`Embedding(mask_zero=True)` -> `Bidirectional(GRU)` ->
`AttentionPooling`), then exports it with `keras_seq.export.export_model`,
which loads each file in its runtime and checks it against Keras before it
returns. Each file is then run as a server would run it, on sequences of
another length than it was checked on. A few seconds on 2 CPU cores, on
the TensorFlow backend (LiteRT and the SavedModel are TensorFlow exports;
ONNX also exports from JAX and PyTorch).

    KERAS_BACKEND=tensorflow python docs/examples/export_runtimes.py [--workdir runs/export_runtimes]
"""

import argparse
import os

import keras
import numpy as np

from keras_seq import layers
from keras_seq.export import export_model


def digit_data(size, rng, length=12):
    """Digit strings (1-9, 0-padded to `length`) and whether the last real
    digit is larger than the first."""
    lengths = rng.integers(2, length + 1, size=size)
    digits = rng.integers(1, 10, size=(size, length))
    digits[np.arange(length) >= lengths[:, None]] = 0
    last = digits[np.arange(size), lengths - 1]
    return digits.astype("int32"), (last > digits[:, 0]).astype("int32")


def build():
    digits = keras.Input((None,), dtype="int32", name="digits")
    x = keras.layers.Embedding(10, 16, mask_zero=True)(digits)
    x = layers.Bidirectional(layers.GRU(16, return_sequences=True))(x)
    x = layers.AttentionPooling(16)(x)
    return keras.Model(digits, keras.layers.Dense(2, activation="softmax")(x))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="runs/export_runtimes")
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = build()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(*digit_data(2048, rng), epochs=3, batch_size=64, verbose=0)

    # Export, load in the runtime, compare with Keras at two shapes.
    onnx = export_model(model, os.path.join(args.workdir, "digits.onnx"))
    litert = export_model(
        model, os.path.join(args.workdir, "digits.tflite"), format="litert"
    )
    saved = export_model(
        model, os.path.join(args.workdir, "digits_saved_model"), format="tf_saved_model"
    )
    for exported in (onnx, litert, saved):
        print(
            f"{exported.format}: {exported.path}, largest difference from Keras "
            f"{exported.max_difference:.1e}"
        )

    # As a server runs them: 5 sequences of 20 steps (the checks used 6 and 10).
    digits, labels = digit_data(5, rng, length=20)
    expected = model.predict(digits, verbose=0)

    import onnxruntime

    session = onnxruntime.InferenceSession(onnx.path)
    from_onnx = session.run(None, {"digits": digits})[0]

    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=litert.path).get_signature_runner()
    from_litert = runner(digits=digits)["output_0"]

    import tensorflow as tf

    serve = tf.saved_model.load(saved.path).signatures["serving_default"]
    from_saved = next(iter(serve(digits=tf.constant(digits)).values())).numpy()

    for name, got in (
        ("ONNX Runtime", from_onnx),
        ("LiteRT", from_litert),
        ("SavedModel", from_saved),
    ):
        print(f"{name}: P(last > first) {np.round(got[:, 1], 3)}")
        np.testing.assert_allclose(got, expected, atol=1e-5)
    print(f"Keras: P(last > first) {np.round(expected[:, 1], 3)}")
    print(f"labels: {labels}")


if __name__ == "__main__":
    main()
