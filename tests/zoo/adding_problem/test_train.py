import json
import os

import numpy as np
import pytest

from keras_seq.testing import TestCase
from zoo.adding_problem import configs, train
from zoo.adding_problem import model as model_lib


class AddingProblemTest(TestCase):
    def test_data(self):
        x, y = model_lib.adding_problem(size=50, length=12, seed=3)
        self.assertEqual(x.shape, (50, 12, 2))
        markers = x[..., 1]
        np.testing.assert_array_equal(markers.sum(axis=1), 2)
        np.testing.assert_array_equal(markers[:, :6].sum(axis=1), 1)
        expected = (x[..., 0] * markers).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(y, expected, rtol=1e-6)
        x2, _ = model_lib.adding_problem(size=50, length=12, seed=3)
        np.testing.assert_array_equal(x, x2)

    def test_train_and_evaluate_tiny(self):
        workdir = self.get_temp_dir()
        results = train.train_and_evaluate(configs.get_config("tiny"), workdir)
        self.assertEqual(set(results), {"SimpleRNN", "GRU", "LSTM", "PeepholeLSTM"})
        for result in results.values():
            self.assertTrue(np.isfinite(result["mse"]))
            self.assertLen(result["val_mse"], 2)
        self.assertTrue(os.path.getsize(os.path.join(workdir, "learning_curves.png")))
        with open(os.path.join(workdir, "results.json")) as f:
            self.assertEqual(json.load(f), results)

    def test_bad_names(self):
        with pytest.raises(ValueError, match="Unknown config"):
            configs.get_config("huge")
        with pytest.raises(ValueError, match="Unknown model"):
            model_lib.recurrent_layer("Transformer", 4)

    def test_cli_refuses_a_workdir_that_is_a_file(self):
        from zoo.adding_problem.__main__ import main

        path = os.path.join(self.get_temp_dir(), "a_file")
        with open(path, "w") as f:
            f.write("x")
        with pytest.raises(SystemExit) as exit_:
            main(["--config", "tiny", "--workdir", path])
        self.assertEqual(exit_.value.code, 2)
