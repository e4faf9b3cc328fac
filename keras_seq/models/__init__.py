"""Models assembled from keras_seq's layers and decoders."""

from keras_seq.models.seq2seq import Seq2Seq

__all__ = ["Seq2Seq"]
