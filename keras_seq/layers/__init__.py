from keras_seq.layers.attention import (
    AdditiveAttention,
    AttentionPooling,
    DotProductAttention,
    LuongAttention,
    MultiHeadAttention,
)
from keras_seq.layers.position_embedding import PositionEmbedding
from keras_seq.layers.rnn import (
    GRU,
    LSTM,
    AttentionRNN,
    AttentionWrapper,
    Bidirectional,
    GRUCell,
    PeepholeLSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    Stacked,
)
from keras_seq.layers.sinusoidal_positional_encoding import (
    SinusoidalPositionalEncoding,
)
from keras_seq.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_seq.layers.transformer_encoder_block import TransformerEncoderBlock

__all__ = [
    "GRU",
    "LSTM",
    "AdditiveAttention",
    "AttentionPooling",
    "AttentionRNN",
    "AttentionWrapper",
    "Bidirectional",
    "DotProductAttention",
    "GRUCell",
    "LuongAttention",
    "MultiHeadAttention",
    "PeepholeLSTMCell",
    "PositionEmbedding",
    "SimpleRNN",
    "SimpleRNNCell",
    "SinusoidalPositionalEncoding",
    "Stacked",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
]
