"""Loaders for the corpora that install with packages (docs/datasets.md)."""

from keras_seq.datasets.bible_en_es import load_bible_en_es
from keras_seq.datasets.chinese_reviews import load_chinese_reviews
from keras_seq.datasets.ding_de_en import load_ding_de_en, parse_ding_line
from keras_seq.datasets.movie_snippets import load_movie_snippets
from keras_seq.datasets.penn_treebank import load_penn_treebank
from keras_seq.datasets.peoples_daily import load_peoples_daily_pos, parse_tagged_line
from keras_seq.datasets.sentiment_lexicon import load_sentiment_lexicon
from keras_seq.datasets.split import Split, Splits, split_examples
from keras_seq.datasets.text_files import (
    load_tagged_text,
    load_text,
    load_translation_tsv,
    load_tsv,
)

__all__ = [
    "Split",
    "Splits",
    "load_bible_en_es",
    "load_chinese_reviews",
    "load_ding_de_en",
    "load_movie_snippets",
    "load_penn_treebank",
    "load_peoples_daily_pos",
    "load_sentiment_lexicon",
    "load_tagged_text",
    "load_text",
    "load_translation_tsv",
    "load_tsv",
    "parse_ding_line",
    "parse_tagged_line",
    "split_examples",
]
