"""Presets of the part-of-speech tagger `pos_zh`."""

import dataclasses

from ..config_checks import check_fields
from ..task_config import TaskConfig


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Words -> Embedding -> Stacked bidirectional LSTM -> a tag per word."""

    name: str = "pos_zh"
    # "peoples_daily" (keras_seq.datasets.load_peoples_daily_pos) or the path
    # of tagged text of one's own: `word/TAG` lines or CoNLL-style columns
    # (`keras_seq.datasets.load_tagged_text`).
    dataset: str = "peoples_daily"
    # Words per training / validation piece: longer paragraphs are cut
    # into pieces this long (evaluation and serving read them whole).
    max_length: int = 160
    max_tokens: int = 50000  # words kept in the vocabulary (train split)
    embedding_dim: int = 64
    units: int = 96
    num_layers: int = 2
    dropout: float = 0.3
    epochs: int = 4
    learning_rate: float = 3e-3
    patience: int = 1
    # Character features (0: none): a BiLSTM of this many units per direction
    # over each word's characters, joined to the word's embedding.
    char_units: int = 0
    char_embedding_dim: int = 32
    max_char_tokens: int = 6000  # characters kept (train split), ids 0, 1 included
    max_word_chars: int = 6  # characters read per word (longer: first and last 3)

    def __post_init__(self):
        super().__post_init__()
        check_fields(
            self,
            positive=(
                "max_length",
                "max_tokens",
                "embedding_dim",
                "units",
                "num_layers",
                "char_embedding_dim",
                "max_char_tokens",
            ),
            non_negative=(
                "patience",
                "char_units",
            ),
        )
        if self.max_word_chars < 2:
            raise ValueError(
                "Received an invalid value for `max_word_chars` of pos_zh's "
                f"config, expected an integer >= 2, got {self.max_word_chars!r}."
            )


POS_ZH = Config()
TINY = dataclasses.replace(
    POS_ZH,
    max_length=24,
    max_tokens=800,
    embedding_dim=8,
    units=8,
    batch_size=16,
    epochs=2,
    train_limit=128,
    eval_limit=200,
)

PRESETS = {
    "pos_zh": {
        "default": POS_ZH,
        "chars": dataclasses.replace(POS_ZH, char_units=32),
        "tiny": TINY,
        "tiny_chars": dataclasses.replace(
            TINY, char_units=4, char_embedding_dim=4, max_char_tokens=300
        ),
    },
}
