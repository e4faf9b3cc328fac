"""Presets of the sentiment classifiers `sentiment_zh` and `sentiment_en`."""

import dataclasses

from ..config_checks import check_fields
from ..task_config import TaskConfig


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Text -> tokens and n-grams -> Embedding -> BiGRU/LSTM -> attention -> classes."""

    name: str = "sentiment_zh"
    # "chinese_reviews", "movie_snippets" (keras_seq.datasets) or the path of
    # a `text<TAB>label` TSV of one's own (two labels or more).
    dataset: str = "chinese_reviews"
    # TextVectorization: "character" (Chinese) or "whitespace" (English) tokens,
    # each with the n-grams it starts (2: its bigram; model.TokenNgrams), the
    # first `max_length` tokens of a text.
    split: str = "character"
    standardize: str = None  # e.g. "lower_and_strip_punctuation"
    ngrams: int = 2
    # 95.7 % of the Chinese training reviews have at most 192 characters
    # (98.8 % at most 320: as accurate, 1.8 times slower; zoo/sentiment/README.md).
    max_length: int = 192
    max_tokens: int = 40000  # tokens (and n-grams) kept in the vocabulary
    embedding_dim: int = 64
    units: int = 64
    cell: str = "GRU"  # or "LSTM"
    attention_units: int = 64
    # Labelled words added to the training split, each weighing
    # `lexicon_weight` in the loss (a review weighs 1): "hownet" (HowNet's
    # Chinese positive and negative words, `keras_seq.datasets.
    # load_sentiment_lexicon`) or None. Data with the labels "negative" and
    # "positive" only (others may be there too).
    lexicon: str = None
    lexicon_weight: float = 0.3
    # Networks trained one after another, each as a run of its own with
    # seed `seed * members + k`; the model's probabilities are their
    # average (`model.combine`).
    members: int = 1
    dropout: float = 0.3
    batch_size: int = 64
    epochs: int = 6
    learning_rate: float = 3e-3
    patience: int = 2

    def __post_init__(self):
        super().__post_init__()
        check_fields(
            self,
            positive=(
                "ngrams",
                "max_length",
                "max_tokens",
                "embedding_dim",
                "units",
                "attention_units",
                "members",
            ),
            non_negative=("patience", "lexicon_weight"),
            choices={
                "split": ("character", "whitespace"),
                "standardize": (
                    None,
                    "lower",
                    "strip_punctuation",
                    "lower_and_strip_punctuation",
                ),
                "cell": ("GRU", "LSTM"),
                "lexicon": (None, "hownet"),
            },
        )


ZH = Config(lexicon="hownet")
EN = Config(
    name="sentiment_en",
    dataset="movie_snippets",
    split="whitespace",
    standardize="lower_and_strip_punctuation",
    max_length=64,  # snippets are one sentence: the longest has 51 words
    max_tokens=30000,
    batch_size=32,
)


def tiny(config):
    """The preset for tests: a few small steps on 256 training examples, one
    network (`members` is tested on its own)."""
    return dataclasses.replace(
        config,
        members=1,
        max_length=32,
        max_tokens=500,
        embedding_dim=8,
        units=8,
        attention_units=8,
        batch_size=32,
        epochs=2,
        train_limit=256,
    )


PRESETS = {
    "sentiment_zh": {"default": ZH, "tiny": tiny(ZH)},
    "sentiment_en": {"default": EN, "tiny": tiny(EN)},
}
