"""`lm_ptb`: word-level stacked-LSTM language model of the Penn Treebank."""

from zoo.language_model.configs import PRESETS, Config
from zoo.language_model.model import build_language_model
from zoo.language_model.train import train_and_evaluate

# PTB's 10,000 words (with <unk>) plus <eos>.
PTB_VOCABULARY = 10000


def build(config):
    """The untrained stateful model of `config`."""
    return build_language_model(config, PTB_VOCABULARY)


__all__ = ["PRESETS", "Config", "build", "build_language_model", "train_and_evaluate"]
