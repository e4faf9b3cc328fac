"""Loaders for the corpora that install with packages (../shared/DATA.md)."""

from keras_seq.datasets.chinese_reviews import load_chinese_reviews
from keras_seq.datasets.movie_snippets import load_movie_snippets
from keras_seq.datasets.penn_treebank import load_penn_treebank
from keras_seq.datasets.peoples_daily import load_peoples_daily_pos, parse_tagged_line
from keras_seq.datasets.split import Split, Splits, split_examples
from keras_seq.datasets.text_files import load_tsv

__all__ = [
    "Split",
    "Splits",
    "load_chinese_reviews",
    "load_movie_snippets",
    "load_penn_treebank",
    "load_peoples_daily_pos",
    "load_tsv",
    "parse_tagged_line",
    "split_examples",
]
