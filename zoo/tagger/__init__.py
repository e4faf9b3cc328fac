"""`pos_zh`: part-of-speech tagging of People's Daily (many-to-many BiLSTM)."""

from .configs import PRESETS, Config
from .model import build_classifier
from .train import train_and_evaluate

# The 44 PKU tags plus the id of a tag unseen in training.
NUM_TAGS = 45


def build(config):
    """The untrained network of `config` (word ids -> tag probabilities)."""
    return build_classifier(config, config.max_tokens, NUM_TAGS)


__all__ = ["PRESETS", "Config", "build", "build_classifier", "train_and_evaluate"]
