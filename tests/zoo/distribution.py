"""MirroredStrategy on two logical CPU devices against one device: the
training run both test modules (`test_distribution*.py`) compare. Two modules,
so that pytest-xdist's `--dist loadscope` can give them to two workers."""

import json
import subprocess
import sys

import pytest

# Logical devices must be set before TensorFlow starts: a process of its own.
SCRIPT = """
import dataclasses, json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import zoo
from zoo import distribute, text_inputs, training
name, workdir, clipnorm = sys.argv[1], sys.argv[2], float(sys.argv[3])
config = dataclasses.replace(
    zoo.config(name, "tiny"), dropout=0.0, epochs=2, clipnorm=clipnorm
)
if name in ("pos_zh", "translate_rnn", "translate_transformer"):
    # Fewer test sentences to tag or translate: no figure of them is compared.
    config = dataclasses.replace(config, eval_limit=16)
train = zoo.module(name).train
strategy = distribute.strategy_named("mirrored")
assert strategy.num_replicas_in_sync == 2
# The single-device run goes through tf.distribute too (one device, one
# replica): Keras feeds a dataset to a model under a strategy by another path,
# which draws another epoch order from the same reshuffling seed. lm_ptb does
# not shuffle and runs without one: under OneDeviceStrategy, TensorFlow 2.21
# now and then crashes (SIGSEGV) making the iterator of its NumPy windows
# (`evaluate` after `fit`, about 1 run in 5).
single = None if name == "lm_ptb" else tf.distribute.OneDeviceStrategy("/cpu:0")


# The single-device run is the reference trajectory only: it ends with `fit`
# (what follows is the tiny tests' business). The mirrored run goes through
# all of `train_and_evaluate` (evaluation, export) under the strategy, but
# translate_rnn's, whose steps after `fit` are translate_transformer's (one
# trainer).
class FitEnded(Exception):
    pass


class EndAfterFit(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        history = self.model.history.history
        raise FitEnded(distribute.replicas(self.model), history["loss"])


def fit_only(label, strategy):  # [replicas, losses] of a run ended after fit
    callbacks = training.callbacks
    training.callbacks = lambda *args, **kwargs: [*callbacks(*args, **kwargs), EndAfterFit()]
    try:
        train.train_and_evaluate(config, f"{workdir}/{label}", strategy)
    except FitEnded as ended:
        return list(ended.args)
    finally:
        training.callbacks = callbacks
    raise AssertionError("train_and_evaluate ran no fit")


reference = fit_only("single", single)
if name == "translate_rnn":
    mirrored = fit_only("mirrored", strategy)
else:
    metrics = train.train_and_evaluate(config, f"{workdir}/mirrored", strategy)
    mirrored = [metrics["replicas"], metrics["history"]["loss"]]
print(json.dumps([reference, mirrored]))
"""


def check_mirrored_matches_single_device(name, clipnorm, rtol, tmp_path):
    """Two epochs of `name`'s tiny preset on one device and mirrored on two:
    the model trained on both devices and the losses agree to `rtol`."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, name, str(tmp_path), str(clipnorm)],
        capture_output=True,
        text=True,
        check=True,
    )
    (one, single), (replicas, mirrored) = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert (one, replicas) == (1, 2)  # the model itself trained on both devices
    assert len(single) == len(mirrored) == 2
    assert mirrored == pytest.approx(single, rel=rtol)
