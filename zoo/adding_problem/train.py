"""Trains every model of a config on the adding problem and compares them."""

import json
import os

import keras
import numpy as np

from .. import training
from . import model as model_lib

BASELINE_MSE = 1.0 / 6.0


def train_and_evaluate(config, workdir):
    """Fits each model with `model.fit`, writes `results.json` and a PNG.

    Returns:
        `{model: {"mse": test mse, "accuracy": share within tolerance,
        "val_mse": [per epoch]}}`.
    """
    os.makedirs(workdir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    x_train, y_train = model_lib.adding_problem(
        config.train_size, config.length, config.seed
    )
    x_test, y_test = model_lib.adding_problem(
        config.test_size, config.length, config.seed + 1
    )
    results = {}
    for kind in config.models:
        model = model_lib.build_model(kind, config.length, config.units)
        model.compile(
            optimizer=keras.optimizers.Adam(
                config.learning_rate, clipnorm=config.clipnorm
            ),
            loss="mse",
        )
        print(f"== {kind} ({model.count_params()} parameters)")
        history = model.fit(
            x_train,
            y_train,
            batch_size=config.batch_size,
            epochs=config.epochs,
            validation_data=(x_test, y_test),
            callbacks=[keras.callbacks.CSVLogger(os.path.join(workdir, f"{kind}.csv"))],
            verbose=training.verbosity(),
        )
        predictions = model.predict(x_test, batch_size=256, verbose=0)
        errors = np.abs(predictions - y_test)
        results[kind] = {
            "mse": float(np.mean(errors**2)),
            "accuracy": float(np.mean(errors < config.tolerance)),
            "val_mse": [float(v) for v in history.history["val_loss"]],
        }
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    plot_learning_curves(results, config, os.path.join(workdir, "learning_curves.png"))
    print_summary(results, config)
    return results


def print_summary(results, config):
    print(
        f"\nAdding problem, length {config.length}: test MSE (predicting the "
        f"mean gives {BASELINE_MSE:.4f}) and accuracy = share of test sums "
        f"within {config.tolerance} of the truth"
    )
    print(f"{'model':<14}{'test MSE':>10}{'accuracy':>10}")
    for kind, result in results.items():
        print(f"{kind:<14}{result['mse']:>10.4f}{result['accuracy']:>10.3f}")


@training.optional_plot
def plot_learning_curves(results, config, path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for kind, result in results.items():
        epochs = np.arange(1, len(result["val_mse"]) + 1)
        axis.plot(epochs, result["val_mse"], marker="o", markersize=3, label=kind)
    axis.axhline(BASELINE_MSE, color="gray", linestyle="--", label="predict the mean")
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("test MSE (log scale)")
    axis.set_title(f"Adding problem, sequence length {config.length}")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    print(f"learning curves: {path}")
