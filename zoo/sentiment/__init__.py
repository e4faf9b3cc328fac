"""Sentiment classifiers (many-to-one RNN with attention pooling).

`sentiment_zh`: characters and character bigrams of Chinese reviews;
`sentiment_en`: words and word bigrams of English movie snippets.
"""

from .configs import PRESETS, Config
from .model import build_classifier
from .train import train_and_evaluate


def build(config):
    """The untrained network of `config` (token ids -> class probabilities)."""
    return build_classifier(config, config.max_tokens)


__all__ = ["PRESETS", "Config", "build", "build_classifier", "train_and_evaluate"]
