"""Translation with attention: `translate_rnn` (BiGRU encoder, attention
decoder) and `translate_transformer` (Transformer blocks)."""

from .configs import PRESETS, Config
from .decode import Translator
from .model import build_translator
from .train import build_model, train_and_evaluate


def build(config):
    """The untrained teacher-forced network of `config`."""
    return build_model(config, config.vocabulary_size, config.vocabulary_size)


__all__ = [
    "PRESETS",
    "Config",
    "Translator",
    "build",
    "build_translator",
    "train_and_evaluate",
]
