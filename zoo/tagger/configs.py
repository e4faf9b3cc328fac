"""Presets of the part-of-speech tagger `pos_zh`."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Config:
    """Words -> Embedding -> Stacked bidirectional LSTM -> a tag per word."""

    name: str = "pos_zh"
    max_length: int = 160  # words per training paragraph (longer ones are cut)
    max_tokens: int = 50000  # words kept in the vocabulary (train split)
    embedding_dim: int = 64
    units: int = 96
    num_layers: int = 2
    dropout: float = 0.3
    batch_size: int = 32
    epochs: int = 4
    learning_rate: float = 3e-3
    clipnorm: float = 1.0
    patience: int = 1
    train_limit: int = 0  # 0: the whole training split
    seed: int = 0


POS_ZH = Config()

PRESETS = {
    "pos_zh": {
        "default": POS_ZH,
        "tiny": dataclasses.replace(
            POS_ZH,
            max_length=24,
            max_tokens=800,
            embedding_dim=8,
            units=8,
            batch_size=16,
            epochs=2,
            train_limit=128,
        ),
    },
}
