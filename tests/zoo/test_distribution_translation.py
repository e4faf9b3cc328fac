"""MirroredStrategy on two logical CPU devices follows single-device training:
the translation models (a module of their own, so that another xdist worker
can run them beside `test_distribution.py`)."""

import os

import pytest

pytest.importorskip("tensorflow")

from tests.zoo.distribution import check_mirrored_matches_single_device


# A masked per-token loss is each replica's mean over its own tokens, and
# Keras averages those (see test_distribution.py): agreement to 1e-3.
# The Transformer's label-smoothed loss once returned a scalar, which Keras
# does not divide among the replicas: two replicas reported and trained on
# twice one device's loss.
@pytest.mark.skipif(
    not os.path.exists("/usr/share/trans/de-en"), reason="needs trans-de-en (apt)"
)
@pytest.mark.parametrize("name", ["translate_rnn", "translate_transformer"])
def test_mirrored_matches_single_device(name, tmp_path):
    check_mirrored_matches_single_device(name, 1.0, 1e-3, tmp_path)
