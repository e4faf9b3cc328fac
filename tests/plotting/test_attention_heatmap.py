import os

import numpy as np
import pytest

from keras_seq.plotting import plot_attention
from keras_seq.testing import TestCase


class PlotAttentionTest(TestCase):
    def test_saves_png_with_tokens(self):
        weights = np.random.default_rng(0).dirichlet(np.ones(4), size=3)
        path = os.path.join(self.get_temp_dir(), "attention.png")
        figure = plot_attention(
            weights, ["ich", "bin", "müde", "."], ["i", "am", "tired"], path, "de-en"
        )
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        axes = figure.axes[0]
        self.assertEqual(
            [t.get_text() for t in axes.get_xticklabels()], ["ich", "bin", "müde", "."]
        )
        self.assertEqual(
            [t.get_text() for t in axes.get_yticklabels()], ["i", "am", "tired"]
        )
        np.testing.assert_array_equal(axes.images[0].get_array(), weights)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones((2, 3)), r"shape \(len\(target_tokens\), len\(source_tokens\)\)"),
        (np.ones((3, 2, 1)), "got shape"),
        (np.full((3, 2), np.nan), "finite"),
    ],
)
def test_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        plot_attention(weights, ["a", "b"], ["x", "y", "z"])
