"""`bench/rnn.py` at tiny sizes: every layer timed against its Keras
built-in and, where torch.nn has the same recurrence, against PyTorch, at
each size, its training step's peak memory at the first, the rows written to
a results file; `bench/memory.py` against allocations of known sizes."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_bench(path, *args):
    """`bench/rnn.py` at tiny sizes on TensorFlow, one thread, results to `path`."""
    tiny = ["--input", "3", "--units", "32", "--repeats", "1", "--threads", "1"]
    result = subprocess.run(
        [sys.executable, "bench/rnn.py", *tiny, *args, "--results", str(path)],
        check=False,
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_every_layer_against_keras_and_pytorch_at_each_size(tmp_path):
    path = tmp_path / "rnn.json"
    result = run_bench(path, "--sizes", "16x6,1x2", "--no-memory")
    assert "threads=1" in result.stdout
    record = json.loads(path.read_text())
    assert record["title"] == "Recurrent layers on TensorFlow (`bench/rnn.py`)"
    rows = {row["measure"]: row for row in record["measures"]}
    layers = ["SimpleRNN", "LSTM", "GRU reset_after=True", "GRU reset_after=False"]
    layers += ["LSTM peepholes vs Keras LSTM", "LSTM recurrent_dropout=0.25"]
    torch_peers = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU reset_after=True": "GRU"}
    expected = set()
    for case in ("batch 16, length 6", "batch 1, length 2"):
        for layer in layers:
            for kind in ("train step", "forward"):
                name = f"{layer}, {kind}, {case}"
                expected.add(name)
                assert rows[name]["peer"].startswith("keras.layers.")
                if layer in torch_peers:
                    expected.add(name + ", against PyTorch")
                    torch_row = rows[name + ", against PyTorch"]
                    assert (
                        torch_row["peer"]
                        == f"torch.nn.{torch_peers[layer]} (cpu, 1 threads)"
                    )
                    assert torch_row["value"] == rows[name]["value"]
                    assert torch_row["target"] == {"on": "ratio", "at_most": 1.0}
    assert set(rows) == expected
    assert all(row["value"] > 0 and row["peer_value"] > 0 for row in rows.values())


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_peak_memory_rows_against_keras_and_pytorch(tmp_path):
    path = tmp_path / "rnn.json"
    run_bench(path, "--sizes", "16x6", "--only", "LSTM")
    rows = {row["measure"]: row for row in json.loads(path.read_text())["measures"]}
    case = "train step peak memory, batch 16, length 6"
    memory = {name: row for name, row in rows.items() if case in name}
    assert set(memory) == {
        f"LSTM, {case}",
        f"LSTM, {case}, against PyTorch",
        f"LSTM peepholes vs Keras LSTM, {case}",
        f"LSTM recurrent_dropout=0.25, {case}",
    }
    for row in memory.values():
        assert row["unit"] == "MB" and row["value"] > 0 and row["peer_value"] > 0
    assert rows[f"LSTM, {case}"]["peer"] == "keras.layers.LSTM"
    assert "target" not in rows[f"LSTM, {case}"]
    torch_row = rows[f"LSTM, {case}, against PyTorch"]
    assert torch_row["peer"] == "torch.nn.LSTM"
    assert torch_row["target"] == {"on": "ratio", "at_most": 1.2}
    assert torch_row["value"] == rows[f"LSTM, {case}"]["value"]


MEMORY_CHECK = """
import numpy as np, tensorflow as tf, torch
import memory

MB = 2**20
def numpy_call():
    a = np.ones(40 * MB // 8)  # 40 MB, freed on return
    return float(a[0])
def torch_call():
    a = torch.ones(30 * MB // 4) * 2.0  # two 30 MB tensors alive at once
    return float(a[0])
x = tf.ones([20 * MB // 4])
@tf.function
def tf_call():
    return tf.reduce_sum(tf.exp(x) * tf.sin(x))  # two 20 MB alive at once
tf_call()
print(memory.peak_during(numpy_call) / MB, memory.peak_during(torch_call) / MB,
      memory.peak_during(lambda: tf_call().numpy()) / MB)
"""


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_peak_memory_counts_numpy_torch_and_tensorflow_allocations():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import memory
    finally:
        sys.path.pop(0)
    if memory._LIBC is None:
        pytest.skip("needs glibc's mallinfo2")
    assert not memory.available()  # this process has several malloc arenas
    with pytest.raises(RuntimeError, match="MALLOC_ARENA_MAX=1"):
        memory.peak_during(lambda: None)
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_CHECK],
        check=False,
        cwd=os.path.join(ROOT, "bench"),
        env={**memory.measured_env(), "KERAS_BACKEND": "tensorflow"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    numpy_mb, torch_mb, tf_mb = map(float, result.stdout.split()[-3:])
    assert 40 <= numpy_mb < 41
    assert 60 <= torch_mb < 61.5
    assert 40 <= tf_mb < 41.5


def test_sizes_must_read_batch_x_length():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import argparse

        from rnn import sizes
    finally:
        sys.path.pop(0)
    assert sizes("64x100,1x50") == [(64, 100), (1, 50)]
    with pytest.raises(argparse.ArgumentTypeError, match="BATCHxLENGTH"):
        sizes("64,100")
    with pytest.raises(argparse.ArgumentTypeError, match="BATCHxLENGTH"):
        sizes("64x0")
