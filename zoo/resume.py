"""Resuming a killed training run: Keras's `BackupAndRestore`, extended.

The one place in the zoo that overrides private Keras methods
(`BackupAndRestore._save_model`, and it reads `_current_epoch` and the
model's `_initial_epoch`); `tests/zoo/test_resume_keras_api.py` checks
that Keras still has them and calls them where this class expects, so a
Keras upgrade that changes them fails a test instead of resuming wrongly.
"""

import glob
import json
import os
import warnings

import keras
import numpy as np


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore`, with the records a resumed run needs.

    Keras backs up the weights (the optimizer's included) and the epoch
    reached. A resumed run then starts its callbacks afresh: a
    `ModelCheckpoint(save_best_only=True)` overwrites the best checkpoint
    with the first epoch after the restart, however bad; `EarlyStopping`
    forgets its best epoch and patience (and, with
    `restore_best_weights`, the best weights); `fit` returns the history of
    the epochs after the restart only. This one also backs up, at the end
    of every epoch, the state of the `keep` callbacks and the history of
    every epoch so far, and restores them: a run killed and resumed keeps
    the best checkpoint, stops and restores the best weights as the run
    would have had it not been killed, and the `History` that `fit` returns
    holds every epoch (its `epoch` attribute, as in Keras, lists the epochs
    this `fit` ran).

    It refuses a backup the run cannot continue, where Keras would fail
    deep inside (or run no epochs):

    - the backup does not load into the model (it was written by a run
      with other sizes): a `ValueError` that says so;
    - the backup already reached the run's last epoch (`--epochs` lowered
      on resuming): a `ValueError` naming the epoch it reached.

    Either message says how to go on: resume with the settings and more
    epochs, or delete `backup_dir` to start afresh.

    Args:
        backup_dir: Where the backup is kept, as in Keras.
        keep: `EarlyStopping` and `ModelCheckpoint` callbacks of the same
            `fit` whose state is backed up. Place this callback after them
            in the list, so that it saves their state of the epoch that
            ended. Defaults to none.
        **kwargs: Keras's `BackupAndRestore` arguments.
    """

    STATE = "callback_state.json"
    KEPT = (  # the callbacks whose state is kept: their attributes that hold it
        (
            keras.callbacks.EarlyStopping,
            ("wait", "stopped_epoch", "best", "best_epoch"),
        ),
        (keras.callbacks.ModelCheckpoint, ("best",)),
    )

    def __init__(self, backup_dir, keep=(), **kwargs):
        super().__init__(backup_dir, **kwargs)
        keep = list(keep)
        for callback in keep:
            if not isinstance(callback, tuple(kind for kind, _ in self.KEPT)):
                raise TypeError(
                    "Received an invalid value for argument `keep`, expected "
                    "EarlyStopping or ModelCheckpoint callbacks, got "
                    f"{callback!r}."
                )
        self.keep = keep
        self.resumed_at = 0
        self._history = {}
        self._states = {}

    def _attributes(self, callback):
        return next(names for kind, names in self.KEPT if isinstance(callback, kind))

    def _weights_file(self, epoch):
        return os.path.join(self.backup_dir, f"best_weights_epoch{epoch}.npz")

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except ValueError as error:
            # Keras's first line: "A total of 5 objects could not be loaded.
            # Example error message for object <GRUCell ...>:", then weights.
            reason = str(error).split(". Example")[0].splitlines()[0]
            raise ValueError(
                f"The backup in {self.backup_dir} does not load into this model "
                f"({reason}): it was written by a run with other settings. "
                "Resume with that run's settings, or delete the backup to start "
                "afresh."
            ) from error
        reached = getattr(self.model, "_initial_epoch", None) or 0
        epochs = self.params.get("epochs")
        if epochs is not None and reached >= epochs:
            raise ValueError(
                f"The backup in {self.backup_dir} is of a run that already "
                f"completed {reached} epochs, and this run asks for {epochs}: "
                f"nothing to train. Resume with more than {reached} epochs, or "
                "delete the backup to start afresh."
            )
        self.resumed_at = reached
        self._history = {}
        self._states = {}  # by epoch reached: this one's and the one before
        if reached:
            self._restore_state(reached)

    def _restore_state(self, epoch):
        path = os.path.join(self.backup_dir, self.STATE)
        states = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                states = json.load(f)
        state = states.get(str(epoch))
        if state is None:
            warnings.warn(
                f"The backup in {self.backup_dir} holds the weights of epoch "
                f"{epoch} but no record of its callbacks (written by an older "
                "version, or killed while saving): the best checkpoint, early "
                "stopping and the history start again at this epoch.",
                stacklevel=2,
            )
            return
        self._states = {str(epoch): state}
        self._history = {k: list(v) for k, v in state["history"].items()}
        for callback, saved in zip(self.keep, state["callbacks"]):
            for name in self._attributes(callback):
                setattr(callback, name, saved[name])
            if saved.get("best_weights_epoch") is not None:
                with np.load(self._weights_file(saved["best_weights_epoch"])) as f:
                    callback.best_weights = [f[f"arr_{i}"] for i in range(len(f))]

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self._history.setdefault(name, []).append(float(value))
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        # The records first, then Keras's weights and epoch: a run killed
        # in between resumes from the previous epoch, whose records are
        # kept beside these.
        os.makedirs(self.backup_dir, exist_ok=True)
        epoch = self._current_epoch - 1  # the epoch that ended
        saved = []
        for callback in self.keep:
            record = {}
            for name in self._attributes(callback):
                value = getattr(callback, name)
                # ints stay ints (epochs, patience); NumPy floats become floats
                record[name] = (
                    value if value is None or isinstance(value, int) else float(value)
                )
            weights = getattr(callback, "best_weights", None)
            if weights is not None:
                record["best_weights_epoch"] = callback.best_epoch
                target = self._weights_file(callback.best_epoch)
                # Written again when it is this epoch's: a killed run may
                # have left this epoch's weights of another trajectory.
                if callback.best_epoch == epoch or not os.path.exists(target):
                    np.savez(target + ".tmp.npz", *weights)
                    os.replace(target + ".tmp.npz", target)
            saved.append(record)
        self._states = {
            e: state for e, state in self._states.items() if e == str(epoch)
        }
        self._states[str(epoch + 1)] = {
            "history": {k: list(v) for k, v in self._history.items()},
            "callbacks": saved,
        }
        path = os.path.join(self.backup_dir, self.STATE)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self._states, f)
        os.replace(path + ".tmp", path)
        needed = {
            record.get("best_weights_epoch")
            for state in self._states.values()
            for record in state["callbacks"]
        }
        needed = {self._weights_file(epoch) for epoch in needed if epoch is not None}
        for name in glob.glob(self._weights_file("*")):
            if name not in needed:
                os.remove(name)
        super()._save_model()

    def on_train_end(self, logs=None):
        history = getattr(self.model, "history", None)
        if self.resumed_at and isinstance(history, keras.callbacks.History):
            history.history = {k: list(v) for k, v in self._history.items()}
        super().on_train_end(logs)
