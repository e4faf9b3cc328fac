"""Presets of the translation models (`translate_rnn`)."""

import dataclasses

from ..config_checks import check_fields
from ..task_config import TaskConfig


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Encoder-decoder with attention, WordPiece subwords on both sides."""

    name: str = "translate_rnn"
    architecture: str = "rnn"  # or "transformer"
    # "bible_en_es", "bible_es_en", "ding_de_en" or a `source<TAB>target` TSV path
    dataset: str = "bible_en_es"
    vocabulary_size: int = 8000  # asked of the WordPiece learner, per language
    # Longer inputs are cut (also when served). With the end token, 96
    # subwords hold 99.97 % of the Bible's verses on either side, 48 only
    # 88 %; Ding's example sentences fit in 48.
    max_source_tokens: int = 96
    max_target_tokens: int = 96  # most generated subwords, the end included
    embedding_dim: int = 128
    units: int = 256  # per direction in the encoder; the decoder's state
    encoder_layers: int = 1
    decoder_cell: str = "GRU"  # or "PeepholeLSTM"
    attention_units: int = 128
    dropout: float = 0.2
    batch_size: int = 64
    # Training batches of similar lengths: each `sort_window` batches' worth
    # of shuffled pairs is sorted by length, then batched and reshuffled
    # (`keras_seq.datasets.Split.dataset`); 0 batches them as they come.
    sort_window: int = 32
    epochs: int = 12
    learning_rate: float = 2e-3
    # "cosine": a linear warm-up of `warmup_steps` to `learning_rate`, then
    # cosine decay to 0 over the remaining steps of `epochs`; "constant".
    learning_rate_schedule: str = "cosine"
    warmup_steps: int = 250
    # Weight of the uniform distribution in the targets of the cross entropy.
    label_smoothing: float = 0.1
    patience: int = 4
    # RNN only: the largest probability of reading the model's own prediction
    # instead of the reference (two-pass scheduled sampling; 0: teacher
    # forcing), reached by a linear ramp of `scheduled_sampling_step` per epoch.
    scheduled_sampling: float = 0.0
    scheduled_sampling_step: float = 0.05
    # Transformer only: blocks per side, heads, feed-forward width.
    num_layers: int = 2
    num_heads: int = 4
    intermediate_dim: int = 512
    beam_width: int = 4
    # Alpha of score / length**alpha. Chosen on validation BLEU for both
    # architectures (`bench/studies/translation_length_penalty.py`): 1.0
    # over 0.7 and 1.3; with label smoothing, 0.7 cuts long verses short.
    length_penalty: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        check_fields(
            self,
            positive=(
                "vocabulary_size",
                "max_source_tokens",
                "max_target_tokens",
                "embedding_dim",
                "units",
                "encoder_layers",
                "attention_units",
                "num_layers",
                "num_heads",
                "intermediate_dim",
                "beam_width",
            ),
            non_negative=(
                "patience",
                "sort_window",
                "scheduled_sampling_step",
                "warmup_steps",
                "length_penalty",
            ),
            fractions=("label_smoothing",),
            choices={
                "architecture": ("rnn", "transformer"),
                "decoder_cell": ("GRU", "PeepholeLSTM"),
                "learning_rate_schedule": ("cosine", "constant"),
            },
        )
        if not 0 <= self.scheduled_sampling <= 1:
            raise ValueError(
                "Received an invalid value for `scheduled_sampling` of "
                f"{self.name}'s config, expected a probability in [0, 1], got "
                f"{self.scheduled_sampling!r}."
            )


DEFAULT = Config()
TRANSFORMER = Config(
    name="translate_transformer",
    architecture="transformer",
    embedding_dim=256,
    dropout=0.1,
    learning_rate=1e-3,
    warmup_steps=1000,
    epochs=15,
    patience=4,
)


def ding(config):
    """`config` on Ding's German -> English example sentences (short ones)."""
    return dataclasses.replace(
        config, dataset="ding_de_en", max_source_tokens=48, max_target_tokens=48
    )


def tiny(config):
    """A few minutes' sizes for tests: 256 training pairs, 2 epochs, BLEU on
    the first 128 test pairs."""
    return dataclasses.replace(
        config,
        vocabulary_size=400,
        max_source_tokens=16,
        max_target_tokens=16,
        embedding_dim=16,
        units=16,
        attention_units=8,
        num_layers=1,
        num_heads=2,
        intermediate_dim=32,
        warmup_steps=8,
        batch_size=16,
        epochs=2,
        train_limit=256,
        eval_limit=128,
    )


# `ding_de_en` with scheduled sampling: the probability of reading the
# model's own prediction rises by 0.05 per epoch to 0.25.
SCHEDULED = dataclasses.replace(ding(DEFAULT), scheduled_sampling=0.25)

# `default` trains on English -> Spanish Bible verses
# (`keras_seq.datasets.load_bible_en_es`); `tiny` on Ding's pairs, which
# load in a second.
PRESETS = {
    "translate_rnn": {
        "default": DEFAULT,
        "ding_de_en": ding(DEFAULT),
        "scheduled": SCHEDULED,
        "tiny": tiny(ding(DEFAULT)),
    },
    "translate_transformer": {
        "default": TRANSFORMER,
        "ding_de_en": ding(TRANSFORMER),
        "tiny": tiny(ding(TRANSFORMER)),
    },
}
