"""The private Keras API that `zoo/resume.py` relies on is still there.

`BackupAndRestore` overrides `_save_model` and reads `_current_epoch` and
the model's `_initial_epoch`. If a Keras release renames or moves them,
this fails (instead of a resumed run silently losing its records).
"""

import inspect
import json
import os

import keras
import numpy as np

from zoo.resume import BackupAndRestore

KERAS = keras.callbacks.BackupAndRestore


def test_keras_saves_through_save_model_after_setting_the_epoch():
    assert list(inspect.signature(KERAS._save_model).parameters) == ["self"]
    source = inspect.getsource(KERAS.on_epoch_end)
    assert "self._current_epoch = epoch + 1" in source
    assert source.index("_current_epoch") < source.index("self._save_model()")


def test_keras_restores_the_epoch_into_initial_epoch():
    assert "_initial_epoch" in inspect.getsource(KERAS._load_model)


def test_records_of_every_epoch_are_written(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((8, 3)), np.zeros((8, 1))
    stopping = keras.callbacks.EarlyStopping(monitor="loss", patience=5)
    # Kept after `fit` ends, as when a run is killed.
    backup = BackupAndRestore(str(tmp_path), keep=[stopping], delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[stopping, backup])
    with open(os.path.join(tmp_path, BackupAndRestore.STATE), encoding="utf-8") as f:
        states = json.load(f)
    assert sorted(states) == ["1", "2"]
    assert len(states["2"]["history"]["loss"]) == 2
    # Resumed for a third epoch: Keras starts at the backed-up epoch.
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[stopping, backup])
    assert backup.resumed_at == 2
    assert len(history.history["loss"]) == 3
