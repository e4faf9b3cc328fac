"""`lm_ptb`: word-level stacked-LSTM language model of the Penn Treebank."""

from .configs import PRESETS, Config
from .model import build_language_model
from .train import train_and_evaluate

# PTB's 10,000 words (with <unk>) plus <eos>.
PTB_VOCABULARY = 10000


def build(config):
    """The untrained stateful model of `config`."""
    return build_language_model(config, PTB_VOCABULARY)


__all__ = ["PRESETS", "Config", "build", "build_language_model", "train_and_evaluate"]
