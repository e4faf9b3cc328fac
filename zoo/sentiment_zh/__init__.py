"""`sentiment_zh`: Chinese review sentiment (many-to-one RNN with attention pooling)."""

from zoo.sentiment_zh.configs import PRESETS, Config
from zoo.sentiment_zh.model import build_classifier
from zoo.sentiment_zh.train import train_and_evaluate

__all__ = ["PRESETS", "Config", "build_classifier", "train_and_evaluate"]
