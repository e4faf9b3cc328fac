"""Presets of the translation models (`translate_rnn`)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Config:
    """Encoder-decoder with attention, WordPiece subwords on both sides."""

    name: str = "translate_rnn"
    dataset: str = "ding_de_en"  # or a path to a `source<TAB>target` TSV
    vocabulary_size: int = 8000  # asked of the WordPiece learner, per language
    max_source_tokens: int = 48  # longer inputs are cut (also when served)
    max_target_tokens: int = 48  # most generated subwords, the end included
    embedding_dim: int = 128
    units: int = 256  # per direction in the encoder; the decoder's state
    encoder_layers: int = 1
    decoder_cell: str = "GRU"  # or "PeepholeLSTM"
    attention_units: int = 128
    dropout: float = 0.2
    batch_size: int = 64
    epochs: int = 20
    learning_rate: float = 2e-3
    clipnorm: float = 1.0
    patience: int = 3
    beam_width: int = 4
    length_penalty: float = 0.7  # alpha of score / length**alpha
    train_limit: int = 0  # training pairs used (0: all)
    seed: int = 0


DEFAULT = Config()
PRESETS = {
    "translate_rnn": {
        "default": DEFAULT,
        "tiny": Config(
            vocabulary_size=400,
            max_source_tokens=16,
            max_target_tokens=16,
            embedding_dim=16,
            units=16,
            attention_units=8,
            batch_size=16,
            epochs=2,
            train_limit=256,
        ),
    },
}
