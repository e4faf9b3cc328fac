"""A training run killed with SIGKILL resumes at the epoch it reached."""

import importlib.util
import json
import os
import signal
import subprocess
import sys

import pytest

pytest.importorskip("tensorflow")


def command(workdir):
    return [
        sys.executable,
        "-m",
        "zoo",
        "train",
        "sentiment_zh",
        "--preset",
        "tiny",
    ] + [
        "--epochs",
        "4",
        "--workdir",
        workdir,
    ]


@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None, reason="needs snownlp")
def test_killed_run_resumes_from_its_last_epoch(tmp_path):
    workdir = str(tmp_path / "run")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(
        command(workdir),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    for line in first.stdout:
        seen.append(line)
        if line.startswith("Epoch 2/4"):  # epoch 1 ended, its backup written
            first.send_signal(signal.SIGKILL)
            break
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL, "".join(seen[-20:])
    assert os.path.isdir(os.path.join(workdir, "backup"))
    assert not os.path.exists(os.path.join(workdir, "metrics.json"))
    second = subprocess.run(
        command(workdir), env=env, capture_output=True, text=True, check=True
    )
    epochs = [
        int(line.split()[1].split("/")[0])
        for line in second.stdout.splitlines()
        if line.startswith("Epoch ")
    ]
    # It starts after the last epoch the killed run completed, not at 1,
    # and ends at 4 or where early stopping, which kept its record, ends it.
    assert (
        epochs and epochs[0] >= 2 and epochs == list(range(epochs[0], epochs[-1] + 1))
    )
    with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    # The history of every epoch: the killed run's first, as it printed it.
    assert metrics["epochs_run"] == epochs[-1]
    assert all(len(values) == epochs[-1] for values in metrics["history"].values())
    assert metrics["resumed_at_epoch"] == epochs[0] - 1
    printed = [line for line in seen if " - loss: " in line]
    loss = float(printed[0].split(" - loss: ")[1].split()[0])
    assert abs(metrics["history"]["loss"][0] - loss) <= 5e-5, (printed, metrics)
    assert not os.path.exists(os.path.join(workdir, "backup"))
