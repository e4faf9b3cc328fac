import dataclasses
import json
import sys

import numpy as np
import pytest

from tests.bench import load_script
from zoo.language_model.configs import Config
from zoo.language_model.model import build_language_model
from zoo.language_model.train import compile_model


@pytest.fixture(scope="module")
def script():
    return load_script("lm_ptb_steps")


def test_writes_the_initial_weights_and_the_losses_they_give(
    script, tmp_path, monkeypatch
):
    out = tmp_path / "steps.npz"
    argv = ["lm_ptb_steps.py", "--preset", "tiny", "--set", "dropout=0"]
    monkeypatch.setattr(sys, "argv", [*argv, "--steps", "3", "--out", str(out)])
    script.main()
    saved = np.load(out)
    config = Config(**json.loads(str(saved["config"])))
    assert dataclasses.asdict(config)["dropout"] == 0
    assert saved["inputs"].shape == (3, config.batch_size, config.bptt)
    np.testing.assert_array_equal(
        saved["inputs"][:, :, 1:], saved["targets"][:, :, :-1]
    )
    # The saved weights are those before the first step: a fresh model given
    # them reproduces the first two steps' losses.
    model = build_language_model(config, len(saved["words"]))
    for i, variable in enumerate(model.trainable_variables):
        assert variable.path.split("/")[-1] == saved["names"][i].split("/")[-1]
        variable.assign(saved[f"weight_{i}"])
    compile_model(model, config)
    for step in range(2):
        loss = model.train_on_batch(saved["inputs"][step], saved["targets"][step])
        assert loss == pytest.approx(saved["losses"][step], rel=1e-5)
    assert saved["losses"][0] != pytest.approx(saved["losses"][1], rel=1e-3)
