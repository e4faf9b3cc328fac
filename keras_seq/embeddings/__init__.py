"""word2vec: vocabulary, example pipeline, skip-gram and CBOW, word vectors."""

from keras_seq.embeddings.pairs import (
    cbow_examples,
    keep_probabilities,
    skipgram_pairs,
    subsample,
    unigram_table,
)
from keras_seq.embeddings.skip_gram import (
    CBOW,
    SkipGram,
    identity_loss,
    negative_sampling_loss,
)
from keras_seq.embeddings.trainer import corpus_ids, make_dataset, train
from keras_seq.embeddings.vocabulary import Vocabulary
from keras_seq.embeddings.word_vectors import WordVectors

__all__ = [
    "CBOW",
    "SkipGram",
    "Vocabulary",
    "WordVectors",
    "cbow_examples",
    "corpus_ids",
    "identity_loss",
    "keep_probabilities",
    "make_dataset",
    "negative_sampling_loss",
    "skipgram_pairs",
    "subsample",
    "train",
    "unigram_table",
]
