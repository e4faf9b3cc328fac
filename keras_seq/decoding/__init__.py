"""Decoders: beam search, greedy search and sampling over a step function."""

from keras_seq.decoding.beam_search import beam_search
from keras_seq.decoding.sampling import filter_logits, greedy_search, sample
from keras_seq.decoding.scheduled_sampling import (
    ScheduledInputs,
    ScheduledSampling,
    ScheduledSamplingDecoder,
    sampling_probability,
)

__all__ = [
    "ScheduledInputs",
    "ScheduledSampling",
    "ScheduledSamplingDecoder",
    "beam_search",
    "filter_logits",
    "greedy_search",
    "sample",
    "sampling_probability",
]
