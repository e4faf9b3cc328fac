"""Models assembled from keras_seq's layers and decoders."""

from keras_seq.models.seq2seq import Seq2Seq
from keras_seq.models.text_model import TextModel, as_text_batch

__all__ = ["Seq2Seq", "TextModel", "as_text_batch"]
