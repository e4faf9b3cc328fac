"""Shared training pieces of the zoo: `TimeLimit`, `BackupAndRestore`."""

import types

import keras
import numpy as np
import pytest

from zoo import training


def fit_with(callback, epochs=5):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((8, 2), "float32")
    history = model.fit(x, x[:, :1], epochs=epochs, verbose=0, callbacks=[callback])
    return len(history.history["loss"])


@pytest.mark.parametrize(
    "seconds, epochs_run, stopped",
    [(5, 1, 1), (35, 3, 3), (40, 4, 4), (50, 5, 5), (1e9, 5, 0)],
)
def test_time_limit_stops_after_the_last_epoch_that_fits(
    monkeypatch, seconds, epochs_run, stopped
):
    # The callback reads the clock when training begins (0 s) and when
    # epoch k begins (10 (k - 1) s) and ends (10 k s): 10-s epochs. After
    # epoch k it stops if 10 k + 10 > seconds.
    readings = iter([0] + [t for k in range(5) for t in (10 * k, 10 * k + 10)])
    monkeypatch.setattr(
        training, "time", types.SimpleNamespace(perf_counter=lambda: next(readings))
    )
    limit = training.TimeLimit(seconds)
    assert fit_with(limit) == epochs_run
    # 50 s: the stop asked after the fifth (last) epoch changes nothing.
    assert limit.stopped_epoch == stopped


@pytest.mark.parametrize("seconds", [0, -3])
def test_time_limit_needs_a_positive_budget(seconds):
    with pytest.raises(ValueError, match="`seconds`, expected a positive number"):
        training.TimeLimit(seconds)


class Interrupt(keras.callbacks.Callback):
    """Stands for a kill: an error when epoch `at` (0-based) begins."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError("interrupted")


def fit_backed_up(backup_dir, epochs, units=1, interrupt_at=None):
    """Epochs `fit` ran, with the zoo's `BackupAndRestore` in `backup_dir`."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(units)])
    model.compile("sgd", "mse")
    x = np.ones((8, 2), "float32")
    callbacks = [training.BackupAndRestore(backup_dir)]
    if interrupt_at is not None:
        callbacks.append(Interrupt(interrupt_at))
    history = model.fit(x, x[:, :units], epochs=epochs, verbose=0, callbacks=callbacks)
    return len(history.history["loss"])


@pytest.fixture
def backup_of_two_epochs(tmp_path):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        fit_backed_up(backup_dir, epochs=5, interrupt_at=2)
    return backup_dir


def test_backup_resumes_at_the_epoch_it_reached(backup_of_two_epochs):
    assert fit_backed_up(backup_of_two_epochs, epochs=5) == 3


@pytest.mark.parametrize("epochs", [1, 2])
def test_backup_past_the_last_epoch_is_refused(backup_of_two_epochs, epochs):
    with pytest.raises(
        ValueError,
        match=f"already completed 2 epochs, and this run asks for {epochs}: "
        "nothing to train. Resume with more than 2 epochs",
    ):
        fit_backed_up(backup_of_two_epochs, epochs=epochs)


def test_backup_of_another_model_is_refused(backup_of_two_epochs):
    with pytest.raises(ValueError, match="does not load into this model .*other"):
        fit_backed_up(backup_of_two_epochs, epochs=5, units=3)
