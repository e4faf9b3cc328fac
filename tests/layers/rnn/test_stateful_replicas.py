"""Stateful layers under `tf.distribute.MirroredStrategy`: each replica carries
the state of its own rows (two logical CPU devices, a process of its own).

The states are mirrored variables with aggregation "none": an `assign` in a
replica updates that replica's copy alone. Were they aggregated ("mean",
"sum"), the replicas would share one state and the second half would differ.
"""

import json
import subprocess
import sys

import keras
import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.distribute: TensorFlow only"
)

# Logical devices must be set before TensorFlow starts.
SCRIPT = """
import json
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from keras_seq.layers import GRU, LSTM, SimpleRNN

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.default_rng(0).normal(size=(4, 6, 3)).astype("float32")
errors = {}
for cls in (SimpleRNN, LSTM, GRU):
    whole = cls(5, return_sequences=True)
    expected = keras.ops.convert_to_numpy(whole(x))
    with strategy.scope():
        inputs = keras.Input(batch_shape=(2, None, 3))  # 2 rows per replica
        layer = cls(5, return_sequences=True, stateful=True)
        model = keras.Model(inputs, layer(inputs))
    for variable, value in zip(layer.trainable_weights, whole.trainable_weights):
        variable.assign(value)
    step = tf.function(model)
    halves = []
    for part in (x[:, :3], x[:, 3:]):  # rows 0-1 to replica 0, rows 2-3 to 1
        data = tf.data.Dataset.from_tensor_slices(part).batch(4)
        batch = next(iter(strategy.experimental_distribute_dataset(data)))
        outputs = strategy.experimental_local_results(strategy.run(step, (batch,)))
        halves.append(np.concatenate([keras.ops.convert_to_numpy(o) for o in outputs]))
    errors[cls.__name__] = float(np.abs(np.concatenate(halves, 1) - expected).max())
    layer.reset_state()
    zeros = [np.abs(np.asarray(s.value)).max() for s in layer.states]
    errors[cls.__name__ + " after reset"] = float(max(zeros))
print(json.dumps(errors))
"""


def test_each_replica_carries_its_own_rows():
    """Two stateful calls on the halves of the sequence, each replica fed half
    of the batch, equal one call of a plain layer on the whole sequence."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    errors = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(errors) == 6
    assert max(errors.values()) < 1e-5, errors
