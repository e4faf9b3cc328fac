"""BLEU and perplexity."""

from keras_seq.metrics.bleu import BLEU, BLEUScore, bleu_from_statistics, corpus_bleu
from keras_seq.metrics.perplexity import Perplexity

__all__ = ["BLEU", "BLEUScore", "Perplexity", "bleu_from_statistics", "corpus_bleu"]
