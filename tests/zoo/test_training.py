"""The zoo's shared training pipeline: `prepare`, `fit`, `finish`, `TimeLimit`,
`BackupAndRestore`, `export_or_skip`."""

import json
import os
import types

import keras
import numpy as np
import pytest

import zoo
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
    """`fit`'s history, with the zoo's `BackupAndRestore` in `backup_dir`."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(units)])
    model.compile("sgd", "mse")
    x = np.ones((8, 2), "float32")
    callbacks = [training.BackupAndRestore(backup_dir)]
    if interrupt_at is not None:
        callbacks.append(Interrupt(interrupt_at))
    y = np.ones((8, units), "float32")
    return model.fit(x, y, epochs=epochs, verbose=0, callbacks=callbacks)


@pytest.fixture
def backup_of_two_epochs(tmp_path):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        fit_backed_up(backup_dir, epochs=5, interrupt_at=2)
    return backup_dir


def test_backup_resumes_at_the_epoch_it_reached(backup_of_two_epochs):
    history = fit_backed_up(backup_of_two_epochs, epochs=5)
    assert history.epoch == [2, 3, 4]  # the epochs this fit ran
    assert len(history.history["loss"]) == 5  # the history of all


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


class ScriptedValLoss(keras.callbacks.Callback):
    """Replaces `val_loss` with `losses[epoch]`: early stopping's input, set."""

    def __init__(self, losses):
        super().__init__()
        self.losses = losses

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.losses[epoch]


# Best at epoch 1 (0-based); patience 2 runs out at epoch 3. A run that
# forgot epochs 0-2 on resuming at 3 would take 4.0 as its best, then 0.5.
SCRIPT = [5.0, 1.0, 3.0, 4.0, 0.5, 6.0, 7.0, 8.0]


def fit_zoo_callbacks(workdir, interrupt_at=None):
    """The zoo's callbacks on a full-batch SGD fit: (history, weights)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.1), "mse")
    x = np.arange(16, dtype="float32").reshape(8, 2) / 16
    callbacks = [
        ScriptedValLoss(SCRIPT),
        *training.callbacks(str(workdir), patience=2),
    ]
    if interrupt_at is not None:
        callbacks.append(Interrupt(interrupt_at))
    history = model.fit(
        x,
        x[:, :1] * 3 - 1,
        epochs=len(SCRIPT),
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return history, model.get_weights()


@pytest.mark.parametrize("interrupt_at", [2, 3])
def test_resumed_run_ends_as_the_uninterrupted_run(tmp_path, interrupt_at):
    history, weights = fit_zoo_callbacks(tmp_path / "whole")
    assert history.epoch == [0, 1, 2, 3]  # stopped by patience after epoch 3
    with pytest.raises(RuntimeError, match="interrupted"):
        fit_zoo_callbacks(tmp_path / "resumed", interrupt_at=interrupt_at)
    resumed, resumed_weights = fit_zoo_callbacks(tmp_path / "resumed")
    # Same epochs, same losses (the optimizer's moments were restored too),
    # same restored best weights (epoch 1's), same best checkpoint.
    assert resumed.epoch == list(range(interrupt_at, 4))
    assert resumed.history.keys() == history.history.keys()
    for name, values in history.history.items():
        np.testing.assert_allclose(resumed.history[name], values, rtol=1e-6)
    for got, want in zip(resumed_weights, weights):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    best = [
        keras.saving.load_model(str(path / "best.keras")).get_weights()
        for path in (tmp_path / "whole", tmp_path / "resumed")
    ]
    for got, want in zip(*best):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(best[0][0], weights[0])  # best.keras: epoch 1
    assert not (tmp_path / "resumed" / "backup").exists()


def test_backup_keeps_only_early_stopping_and_checkpoints(tmp_path):
    with pytest.raises(TypeError, match="`keep`, expected EarlyStopping or"):
        training.BackupAndRestore(str(tmp_path), keep=[keras.callbacks.History()])


def test_backup_without_records_resumes_with_a_warning(backup_of_two_epochs):
    os.remove(os.path.join(backup_of_two_epochs, training.BackupAndRestore.STATE))
    with pytest.warns(UserWarning, match="no record of its callbacks"):
        history = fit_backed_up(backup_of_two_epochs, epochs=5)
    assert history.epoch == [2, 3, 4]
    assert len(history.history["loss"]) == 3  # what this run saw


def test_export_or_skip_writes_or_removes_an_earlier_export(tmp_path, monkeypatch):
    earlier = tmp_path / "export"
    earlier.mkdir()
    (earlier / "saved_model.pb").write_bytes(b"an earlier run")
    written = []
    monkeypatch.setattr(training, "why_no_export", lambda name, workdir: None)
    assert training.export_or_skip("m", str(tmp_path), written.append) is None
    assert written == [str(earlier)] and earlier.exists()
    monkeypatch.setattr(training, "why_no_export", lambda name, workdir: "skipped: x")
    note = training.export_or_skip("m", str(tmp_path), written.append)
    assert (
        note
        == "skipped: x; the export/ of an earlier run in this directory was removed"
    )
    assert not earlier.exists() and len(written) == 1
    assert training.export_or_skip("m", str(tmp_path), written.append) == "skipped: x"


def test_fit_and_finish_write_what_every_run_writes(tmp_path):
    workdir = str(tmp_path / "run")
    config = zoo.config("sentiment_zh", "tiny", epochs=3, patience=5)
    training.prepare(config, workdir)
    assert os.path.isdir(workdir)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    seen = []
    history, seconds = training.fit(
        model,
        (x, y),
        (x, y),
        config,
        workdir,
        then=[
            keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))
        ],
        batch_size=4,
    )
    assert seen == [0, 1, 2] and seconds > 0
    written = []
    metrics = training.finish(
        config,
        workdir,
        model,
        history,
        seconds,
        export=written.append,
        files={"labels.txt": ["a b", "c"]},
        metrics={"test_thing": 0.5},
    )
    expected = {"best.keras", "last.keras", "model.keras", "metrics.json", "labels.txt"}
    assert expected <= set(os.listdir(workdir))
    assert not os.path.exists(os.path.join(workdir, "backup"))  # training ended
    assert training.read_lines(os.path.join(workdir, "labels.txt")) == ["a b", "c"]
    with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
        assert json.load(f) == metrics
    assert metrics["model"] == "sentiment_zh" and metrics["test_thing"] == 0.5
    assert metrics["epochs_run"] == 3 and metrics["config"]["epochs"] == 3
    if keras.backend.backend() == "tensorflow":
        assert written == [os.path.join(workdir, "export")]
        assert "export" not in metrics
    else:
        assert not written and metrics["export"].startswith("skipped")
    restored = keras.saving.load_model(os.path.join(workdir, "model.keras"))
    np.testing.assert_allclose(
        restored.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_recorded_command_reads_as_typed_in_the_repository(monkeypatch, tmp_path):
    """Paths inside the working directory are recorded relative to it;
    others (a work directory elsewhere) as given."""
    from zoo import records

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    (tmp_path / "bench").mkdir()
    argv = [
        str(tmp_path / "bench" / "rnn.py"),
        "/elsewhere/runs/seed0",
        "--results",
        str(tmp_path / "bench" / "results" / "rnn.json"),
        "--n",
        "3",
    ]
    assert records.command(argv) == (
        "python bench/rnn.py /elsewhere/runs/seed0 --results bench/results/rnn.json --n 3"
    )
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert records.command(argv[:1]) == "KERAS_BACKEND=jax python bench/rnn.py"
