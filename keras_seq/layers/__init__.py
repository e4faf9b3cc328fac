from keras_seq.layers.rnn import GRU
from keras_seq.layers.rnn import LSTM
from keras_seq.layers.rnn import GRUCell
from keras_seq.layers.rnn import PeepholeLSTMCell
from keras_seq.layers.rnn import SimpleRNN
from keras_seq.layers.rnn import SimpleRNNCell

__all__ = [
    "GRU",
    "GRUCell",
    "LSTM",
    "PeepholeLSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
]
