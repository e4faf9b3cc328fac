"""`bench/rnn.py` at tiny sizes: every layer timed against its Keras
built-in and, where torch.nn has the same recurrence, against PyTorch, at
each size, the rows written to a results file."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_every_layer_against_keras_and_pytorch_at_each_size(tmp_path):
    path = tmp_path / "rnn.json"
    argv = ["--sizes", "3x4,1x2", "--input", "3", "--units", "5", "--repeats", "1"]
    result = subprocess.run(
        [
            sys.executable,
            "bench/rnn.py",
            *argv,
            "--threads",
            "1",
            "--results",
            str(path),
        ],
        check=False,
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "threads=1" in result.stdout
    record = json.loads(path.read_text())
    assert record["title"] == "Recurrent layers on TensorFlow (`bench/rnn.py`)"
    rows = {row["measure"]: row for row in record["measures"]}
    layers = ["SimpleRNN", "LSTM", "GRU reset_after=True", "GRU reset_after=False"]
    layers.append("LSTM peepholes vs Keras LSTM")
    torch_peers = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU reset_after=True": "GRU"}
    expected = set()
    for case in ("batch 3, length 4", "batch 1, length 2"):
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
