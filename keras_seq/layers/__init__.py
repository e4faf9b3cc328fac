from keras_seq.layers.rnn import (
    GRU,
    LSTM,
    Bidirectional,
    GRUCell,
    PeepholeLSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    Stacked,
)

__all__ = [
    "GRU",
    "LSTM",
    "Bidirectional",
    "GRUCell",
    "PeepholeLSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "Stacked",
]
