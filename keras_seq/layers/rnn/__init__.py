from keras_seq.layers.rnn.attention_wrapper import AttentionRNN, AttentionWrapper
from keras_seq.layers.rnn.bidirectional import Bidirectional
from keras_seq.layers.rnn.gru import GRU
from keras_seq.layers.rnn.gru_cell import GRUCell
from keras_seq.layers.rnn.lstm import LSTM
from keras_seq.layers.rnn.peephole_lstm_cell import PeepholeLSTMCell
from keras_seq.layers.rnn.simple_rnn import SimpleRNN
from keras_seq.layers.rnn.simple_rnn_cell import SimpleRNNCell
from keras_seq.layers.rnn.stacked import Stacked

__all__ = [
    "GRU",
    "LSTM",
    "AttentionRNN",
    "AttentionWrapper",
    "Bidirectional",
    "GRUCell",
    "PeepholeLSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "Stacked",
]
