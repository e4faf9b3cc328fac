"""Rank errors come when a layer is built on a symbolic `keras.Input`, with a
message naming the argument and the layout, not at the first real call."""

import keras
import pytest

from keras_seq import layers

CASES = {
    "SimpleRNN": (
        lambda: layers.SimpleRNN(3),
        [(4, 5, 6)],
        "`sequences` must have rank 3",
    ),
    "LSTM": (lambda: layers.LSTM(3), [(4,)], "`sequences` must have rank 3"),
    "GRU": (lambda: layers.GRU(3), [(4, 5, 6)], "`sequences` must have rank 3"),
    "Bidirectional": (
        lambda: layers.Bidirectional(layers.LSTM(3)),
        [(4, 5, 6)],
        "`sequences` must have rank 3",
    ),
    "Stacked": (
        lambda: layers.Stacked(layers.LSTM(3), num_layers=2),
        [(4, 5, 6)],
        "`sequences` must have rank 3",
    ),
    "MultiHeadAttention": (
        lambda: layers.MultiHeadAttention(2, 2),
        [(2, 3, 4), (5, 4)],
        "`query` must have rank 3",
    ),
    "DotProductAttention": (
        lambda: layers.DotProductAttention(),
        [(2, 3, 4), (5, 4)],
        "`query` must have rank 2 or 3",
    ),
    "AdditiveAttention": (
        lambda: layers.AdditiveAttention(4),
        [(3, 4), (5, 6, 4)],
        "`value` must have rank 3",
    ),
    "SinusoidalPositionalEncoding": (
        lambda: layers.SinusoidalPositionalEncoding(),
        [(8,)],
        "`inputs` must have rank 3 or more",
    ),
    "PositionEmbedding": (
        lambda: layers.PositionEmbedding(10),
        [(8,)],
        "`inputs` must have rank 3 or more",
    ),
    "TransformerEncoderBlock": (
        lambda: layers.TransformerEncoderBlock(8, 2),
        [(2, 3, 4)],
        "`inputs` must have rank 3",
    ),
    "TransformerDecoderBlock": (
        lambda: layers.TransformerDecoderBlock(8, 2),
        [(2, 3, 4)],
        "`decoder_sequence` must have rank 3",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_wrong_rank_is_refused_at_build(name):
    make, shapes, message = CASES[name]
    inputs = [keras.Input(shape) for shape in shapes]
    with pytest.raises(ValueError, match=message):
        make()(*inputs)


def test_rank_4_inputs_build_where_the_peer_takes_them():
    for layer in (layers.SinusoidalPositionalEncoding(), layers.PositionEmbedding(8)):
        output = layer(keras.Input((2, 3, 4)))
        assert tuple(output.shape) == (None, 2, 3, 4)
